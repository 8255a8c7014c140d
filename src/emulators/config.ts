// The per-test switches every emulator understands (`POST {adminUrl}/config`, `handle.configure()`):
// lifetimes, clock skew, rotation, reuse detection, grace, latency and injected faults.
import { z } from 'zod'

const count = z.number().int().min(0)

const failSchema = z.object({
  count,
  status: z.number().int().min(500).max(599).default(503),
  /** `json` answers `{ "error": "server_error" }`; `html` answers a gateway error page. */
  body: z.enum(['json', 'html']).default('json'),
})
const tokenFailSchema = failSchema.extend({
  /** Only token requests of this `grant_type` fail (and count); others pass (bookingtime's second step). */
  grantType: z.string().optional(),
})
const dropSchema = z.object({ count, afterCommit: z.boolean().default(false) })
const rateLimitSchema = z.object({ count, retryAfter: z.number().int().min(0).default(1) })

export const emulatorConfigSchema = z.object({
  /** Lifetime of access tokens issued from a code or client credentials, in seconds. */
  accessTokenTtl: z.number().int().positive(),
  /** Lifetime of access tokens issued by a refresh; null means `accessTokenTtl` (Booking Experts: 3600). */
  refreshedAccessTokenTtl: z.number().int().positive().nullable(),
  /** Lifetime of refresh tokens; null means they never expire (bookingtime: 30 days). */
  refreshTokenTtl: z.number().int().positive().nullable(),
  authorizationCodeTtl: z.number().int().positive(),
  /** Skew of the emulator's clock against the real one (JWT `iat`/`exp`, the `Date` header, expiry). */
  clockOffsetSeconds: z.number(),
  rotateRefreshTokens: z.boolean(),
  /** Reusing a rotated refresh token revokes every token descending from its authorization. */
  reuseDetection: z.boolean(),
  /** A rotated refresh token is still accepted for this long and answers with the family's current pair. */
  reuseGraceSeconds: z.number().min(0),
  /** Delay added to every token and API request. */
  latencyMs: z.number().min(0),
  /** Each delay is `latencyMs` ± up to this much, uniformly (never below 0): a real endpoint's spread. */
  latencyJitterMs: z.number().min(0),
  /**
   * Token requests accepted per second per client (0: no limit); one more within the same second
   * is answered 429 with `Retry-After` (seconds until the next second), as platforms rate-limit
   * per OAuth client. Only accepted requests count.
   */
  tokenRequestsPerSecond: z.number().int().min(0),
  failNextTokenRequests: tokenFailSchema,
  dropNextTokenResponses: dropSchema,
  rateLimitNext: rateLimitSchema,
  failNextApiRequests: failSchema,
  rateLimitNextApiRequests: rateLimitSchema,
  /** The next N token requests are committed, then answered 200 with only the first half of the JSON. */
  truncateNextTokenResponses: z.object({ count }),
  /**
   * The lifetime written into every token answer (`expires_in`, or Booking Experts' `expires`)
   * whatever the token really lives; null answers the real one. Models a platform that reports
   * 0 or a nonsense value such as 1e14.
   */
  expiresInAnswer: z.number().min(0).nullable(),
  /** `/oauth/authorize` approves at once, without showing the consent form. */
  autoApprove: z.boolean(),
  /** Redirect URIs registered for the default client on top of oob and loopback. */
  extraRedirectUris: z.array(z.string().min(1)),
  /**
   * Scopes the platform knows on top of its documented ones (BookyFlow: the scopes its API
   * plugins define in their `scopes.json`). Any other scope is refused with `invalid_scope`.
   */
  extraScopes: z.array(z.string().min(1)),
  /**
   * BookyFlow: an announced channel belongs to the access token that announced it, not to the
   * client; a request naming a channel under a token that has not announced it is refused (403).
   */
  channelsPerToken: z.boolean(),
  /**
   * BookyFlow: where the channel announce is served, below `/bookyflow/api` (the platform's documentation names no
   * path; `/cmf/announce` is Innkeeper's assumption). Elsewhere the announce is a 404.
   */
  announcePath: z.string().regex(/^\/[\w./-]*$/, 'a path like /cmf/announce'),
})

export type EmulatorConfig = z.infer<typeof emulatorConfigSchema>

export const BASE_CONFIG: EmulatorConfig = {
  accessTokenTtl: 3600,
  refreshedAccessTokenTtl: null,
  refreshTokenTtl: null,
  authorizationCodeTtl: 600,
  clockOffsetSeconds: 0,
  rotateRefreshTokens: false,
  reuseDetection: false,
  reuseGraceSeconds: 0,
  latencyMs: 0,
  latencyJitterMs: 0,
  tokenRequestsPerSecond: 0,
  failNextTokenRequests: { count: 0, status: 503, body: 'json' },
  dropNextTokenResponses: { count: 0, afterCommit: false },
  rateLimitNext: { count: 0, retryAfter: 1 },
  failNextApiRequests: { count: 0, status: 503, body: 'json' },
  rateLimitNextApiRequests: { count: 0, retryAfter: 1 },
  truncateNextTokenResponses: { count: 0 },
  expiresInAnswer: null,
  autoApprove: false,
  extraRedirectUris: [],
  extraScopes: [],
  channelsPerToken: false,
  announcePath: '/cmf/announce',
}

/** A number is shorthand for `{ count: N }`. */
const counted = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((value) => (typeof value === 'number' ? { count: value } : value), schema)

export const emulatorConfigPatchSchema = z
  .object({
    ...emulatorConfigSchema.partial().shape,
    failNextTokenRequests: counted(tokenFailSchema).optional(),
    dropNextTokenResponses: counted(dropSchema).optional(),
    rateLimitNext: counted(rateLimitSchema).optional(),
    failNextApiRequests: counted(failSchema).optional(),
    rateLimitNextApiRequests: counted(rateLimitSchema).optional(),
    truncateNextTokenResponses: counted(z.object({ count })).optional(),
    /** Shorthand for `dropNextTokenResponses.afterCommit`. */
    afterCommit: z.boolean().optional(),
  })
  .strict()

export type EmulatorConfigPatch = z.input<typeof emulatorConfigPatchSchema>

export class ConfigPatchError extends Error {}

/** Applies a patch; throws ConfigPatchError naming the bad fields and the allowed ones. */
export function applyConfigPatch(config: EmulatorConfig, patch: unknown): EmulatorConfig {
  const parsed = emulatorConfigPatchSchema.safeParse(patch ?? {})
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
      .join('; ')
    throw new ConfigPatchError(
      `Invalid emulator config (${problems}). Allowed keys: ${Object.keys(emulatorConfigPatchSchema.shape).join(', ')}.`,
    )
  }
  const { afterCommit, ...rest } = parsed.data
  const next: EmulatorConfig = { ...config }
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (next as Record<string, unknown>)[key] = value
  }
  if (afterCommit !== undefined) {
    next.dropNextTokenResponses = { ...next.dropNextTokenResponses, afterCommit }
  }
  return emulatorConfigSchema.parse(next)
}
