// Turns what a provider says when it refuses into typed errors: RFC 6749 §5.2 token-endpoint
// errors, RFC 6750 `WWW-Authenticate: Bearer error=…` challenges, and the platforms' own JSON
// bodies (BookyFlow's `{"error":"unauthorized"}` / `{"error":"forbidden"}`). Provider text is
// shortened and scrubbed before it reaches a message; tokens never do.
import { ApiError, type ErrorCode, TokenEndpointError } from '../errors.js'
import { scrub } from '../redact.js'

const TOKEN_ERROR_CODES = new Set<ErrorCode>([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
])

const TOKEN_ERROR_ADVICE: Partial<Record<ErrorCode, string>> = {
  invalid_client: "Check the app's client id and secret (innkeeper apps add … again with the right values).",
  invalid_grant: 'The code or refresh token is no longer valid: authorize again (innkeeper connect <app>).',
  invalid_scope: 'Ask only for scopes the platform knows and the app is allowed to request.',
  unauthorized_client: 'This app is not allowed to use this grant on the platform; check its settings there.',
  unsupported_grant_type: 'The platform does not support this grant for this app.',
  invalid_request: 'The platform rejected the request as malformed; check the app settings.',
  access_denied: 'The account owner refused access; ask them to authorize again.',
}

/** A short, printable excerpt of provider text: one line, no markup, no known secrets. */
export function excerpt(text: string, secrets: Iterable<string | undefined> = [], max = 160): string {
  const plain = scrub(text, secrets)
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return plain.length > max ? `${plain.slice(0, max)}…` : plain
}

function stringField(body: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = body?.[key]
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

/** Seconds to wait, from `Retry-After` (delta-seconds or HTTP date). */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000))
}

/** The error for a non-2xx token-endpoint answer. */
export function tokenEndpointError(
  status: number,
  body: Record<string, unknown> | undefined,
  text: string,
  context: {
    provider: string
    grant: string
    retryAfterSeconds?: number
    secrets: Iterable<string | undefined>
  },
): TokenEndpointError {
  const secrets = [...context.secrets]
  if (status === 429) {
    const wait = context.retryAfterSeconds
    return new TokenEndpointError(
      'rate_limited',
      `${context.provider} is rate limiting token requests${wait === undefined ? '' : `; retry in ${wait} s`}.`,
      { status, details: { retryAfterSeconds: wait } },
    )
  }
  if (status >= 500) {
    return new TokenEndpointError(
      'provider_unavailable',
      `${context.provider}'s token endpoint failed (HTTP ${status}). Innkeeper retries with backoff; if it persists, check the platform's status.`,
      { status },
    )
  }
  const code = stringField(body, 'error') as ErrorCode | undefined
  const description = stringField(body, 'error_description')
  const said = description ? ` It said: "${excerpt(description, secrets)}".` : ''
  if (code && TOKEN_ERROR_CODES.has(code)) {
    return new TokenEndpointError(
      code,
      `${context.provider} refused the ${context.grant} request (${code}).${said} ${TOKEN_ERROR_ADVICE[code] ?? ''}`.trim(),
      { status, details: { error: code } },
    )
  }
  const what = body
    ? `error "${excerpt(String(body.error ?? 'unknown'), secrets, 60)}"`
    : `"${excerpt(text, secrets, 80)}"`
  return new TokenEndpointError(
    status === 401 ? 'invalid_client' : 'invalid_request',
    `${context.provider} answered the ${context.grant} request with HTTP ${status} and ${what}.${said}`,
    { status },
  )
}

/** Parses `Bearer realm="x", error="invalid_token", error_description="…"` (RFC 6750 §3). */
export function parseBearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^\s*bearer\b/i.test(header)) return undefined
  const params: Record<string, string> = {}
  const pattern = /([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g
  for (const match of header.replace(/^\s*bearer\s*/i, '').matchAll(pattern)) {
    params[match[1]!.toLowerCase()] = (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1')
  }
  return params
}

/** What an API refusal means: a token problem (refresh and retry), a missing scope, or something else. */
export function apiError(
  response: { status: number; headers: Headers },
  body: Record<string, unknown> | undefined,
  text: string,
  context: {
    provider: string
    method: string
    path: string
    secrets: Iterable<string | undefined>
    now: number
  },
): ApiError {
  const secrets = [...context.secrets]
  const challenge = parseBearerChallenge(response.headers.get('www-authenticate'))
  const error = challenge?.error ?? stringField(body, 'error')
  const description =
    challenge?.error_description ?? stringField(body, 'error_description') ?? stringField(body, 'message')
  const said = description
    ? `: "${excerpt(description, secrets)}"`
    : text
      ? `: "${excerpt(text, secrets, 120)}"`
      : ''
  const where = `${context.method} ${context.path}`
  const status = response.status
  if (status === 401) {
    return new ApiError(
      'invalid_token',
      `${context.provider} did not accept the access token for ${where}${said}.`,
      {
        status,
        details: { error: error ?? 'invalid_token' },
      },
    )
  }
  if (status === 403 && (error === 'insufficient_scope' || /scope/i.test(description ?? ''))) {
    const scope = challenge?.scope ?? stringField(body, 'scope')
    return new ApiError(
      'insufficient_scope',
      `${context.provider} refused ${where}: the token lacks ${scope ? `the scope "${scope}"` : 'a scope this call needs'}${said}. Connect again asking for ${scope ? `"${scope}"` : 'the missing scope'}.`,
      { status, details: { error: 'insufficient_scope', ...(scope ? { scope } : {}) } },
    )
  }
  if (status === 429) {
    const wait = parseRetryAfter(response.headers.get('retry-after'), context.now)
    return new ApiError(
      'rate_limited',
      `${context.provider} is rate limiting ${where}${wait === undefined ? '' : `; retry in ${wait} s`}.`,
      {
        status,
        details: { retryAfterSeconds: wait },
      },
    )
  }
  if (status >= 500) {
    return new ApiError(
      'provider_unavailable',
      `${context.provider} failed on ${where} (HTTP ${status})${said}.`,
      { status },
    )
  }
  return new ApiError('http_error', `${context.provider} answered ${where} with HTTP ${status}${said}.`, {
    status,
    details: error ? { error } : {},
  })
}
