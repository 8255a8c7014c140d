// The shape of a provider definition: everything that differs between platforms, as data.
// The core reads these fields and never branches on a provider's name.
//
// Templates: strings may contain `{app.baseUrl}`, `{app.redirectUri}`, `{app.apiUrl}`,
// `{metadata.<key>}`, `{options.<key>}` and `{connection.redirectUri}` (the redirect URI the
// connection's authorization used); see `src/providers/template.ts`.
import { z } from 'zod'
import { durationMs } from '../model/duration.js'
import { CONNECT_GRANTS, GRANTS } from './grants.js'
import { useProviderSchema } from './schema-slot.js'

export { CONNECT_GRANTS, type ConnectGrant, connectGrantsOf, GRANTS, type Grant } from './grants.js'

const template = z.string().min(1)

/** The values of `refresh.proactive`, from most to fewest refreshes ahead of use. */
export const REFRESH_POLICIES = ['always', 'when-used-within', 'on-use'] as const
export type RefreshPolicy = (typeof REFRESH_POLICIES)[number]

/** Copies values out of a JSON answer into the connection's metadata (`data.id`, `data.items[].id`). */
const extractSchema = z.record(z.string(), z.string())

const postConnectStepSchema = z.strictObject({
  /** Shown in logs and the CLI's narration: "fetching subscription". */
  name: z.string(),
  /** Run only when this connect option is given (e.g. BookyFlow's `channel`). */
  when: z.string().optional(),
  method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
  /** Appended to the API base URL. */
  path: template,
  /** JSON body; string leaves are templates. */
  body: z.record(z.string(), z.unknown()).optional(),
  /** metadata key → path into the JSON answer. */
  extract: extractSchema.default({}),
  /** metadata key → template, saved after the step succeeds (e.g. the announced channel name). */
  save: z.record(z.string(), template).default({}),
  /**
   * Run again after every new access token (renewal or refresh), not only after connecting: for
   * idempotent steps a platform may tie to the token (BookyFlow's channel announce).
   */
  afterEveryToken: z.boolean().default(false),
})
export type PostConnectStep = z.infer<typeof postConnectStepSchema>

const connectOptionSchema = z.strictObject({
  /** Option name in the library (`organizationId`) and metadata key it is saved under. */
  name: z.string(),
  /** CLI flag without dashes (`organization`). */
  flag: z.string(),
  description: z.string(),
  required: z.boolean().default(false),
  /** Also sent as this authorize-URL parameter (BookingSync's `account_id` pre-selects the account). */
  authorizeParam: z.string().optional(),
})
export type ConnectOption = z.infer<typeof connectOptionSchema>

const settingSchema = z.strictObject({
  description: z.string(),
  required: z.boolean().default(false),
})

export const providerDefinitionSchema = z.strictObject({
  /** Canonical name used in app records (`bookingsync`). */
  name: z.string().regex(/^[a-z0-9-]+$/),
  /** Other names that resolve to this definition (`smily`). */
  aliases: z.array(z.string()).default([]),
  displayName: z.string(),
  docsUrl: z.string().url().optional(),

  /** App settings beyond client id/secret, e.g. BookyFlow's required `baseUrl`. */
  settings: z.record(z.string(), settingSchema).default({}),

  urls: z.strictObject({
    authorize: template.optional(),
    token: template,
    api: template,
    /**
     * The API base URL for an app with no client secret, where the platform serves such clients
     * elsewhere (bookingtime's Module API). The app setting `moduleApiUrl` overrides it.
     */
    moduleApi: template.optional(),
    revoke: template.optional(),
    /** Other hosts the API lives on (full URLs given to `fetch` may target these). */
    extraHosts: z.array(template).default([]),
  }),

  /**
   * How a grant ends on the platform's side when the platform documents no revocation endpoint,
   * as a sentence `disconnect` prints (BookingSync: only the account owner, by uninstalling).
   */
  ownerRevocation: z.string().optional(),

  /** How an account is connected by default: a person authorizes, or the client's own credentials suffice. */
  connect: z.enum(CONNECT_GRANTS),
  /**
   * Every way an account may be connected (`connect --grant`, `connect(app, { grant })`), the
   * default `connect` among them. Absent: the connect grants listed in `grants`.
   */
  connectGrants: z.array(z.enum(CONNECT_GRANTS)).min(1).optional(),
  /**
   * A sentence said once when a connection is made with this grant (CLI: stderr; library: the
   * connect result's `warnings`), e.g. bookingtime's word that client credentials are for prototypes.
   */
  connectNotices: z.partialRecord(z.enum(CONNECT_GRANTS), z.string().min(1)).default({}),
  grants: z.array(z.enum(GRANTS)).min(1),

  /** Where the client id/secret go on the token endpoint. */
  clientAuthentication: z.enum(['client_secret_post', 'client_secret_basic']).default('client_secret_post'),
  /**
   * Per grant, another client authentication than `clientAuthentication`. `none` (RFC 7591's
   * name) sends the client id alone, never the secret: bookingtime's refresh-token exchange.
   */
  clientAuthenticationByGrant: z
    .partialRecord(z.enum(GRANTS), z.enum(['client_secret_post', 'client_secret_basic', 'none']))
    .default({}),
  /** The secret may be empty (bookingtime's Module API); it is then omitted. */
  clientSecretOptional: z.boolean().default(false),

  authorization: z
    .object({
      /** The redirect URI used when the app has none: out-of-band shows the code on a page. */
      defaultRedirectUri: z.string().optional(),
      pkce: z.boolean().default(false),
      /** Extra query parameters on the authorize URL. */
      params: z.record(z.string(), template).default({}),
      /**
       * The platform's app store may call the redirect URI with a code and nothing else (no
       * `state`) when someone installs the app there (Booking Experts).
       */
      installCallbacks: z.boolean().default(false),
      /** Metadata key that names connections made by such installs (`subscriptionId` → `install-123`). */
      installNameFrom: z.string().optional(),
    })
    .default({ pkce: false, params: {}, installCallbacks: false }),

  scopes: z
    .object({
      default: z.array(z.string()).default([]),
      /** Scopes the platform documents (listed in docs and `--help`); empty means no list. */
      known: z.array(z.string()).default([]),
      /**
       * What the client does with a scope outside `known`: pass it on with a warning (the
       * platform decides, and may answer `invalid_scope`), refuse it before anything is sent,
       * or pass it on silently. Platforms add scopes faster than a release can follow.
       */
      unknown: z.enum(['warn', 'refuse', 'allow']).default('warn'),
      /** Scopes always granted even when not asked for (BookingSync's `public`). */
      implicit: z.array(z.string()).default([]),
      /** The client-credentials grant must name scopes (BookyFlow). */
      requiredForClientCredentials: z.boolean().default(false),
      /** What a client-credentials token asks for when no scopes are given (BookingSync: `public` only). */
      forClientCredentials: z.array(z.string()).optional(),
      separator: z.string().default(' '),
    })
    .default({
      default: [],
      known: [],
      unknown: 'warn',
      implicit: [],
      requiredForClientCredentials: false,
      separator: ' ',
    }),

  /** Extra form parameters per grant type, as templates. */
  tokenParams: z.partialRecord(z.enum(GRANTS), z.record(z.string(), template)).default({}),

  tokenResponse: z
    .object({
      /** Field names read as `expires_in` when it is absent (Booking Experts' `expires`). */
      expiresInAliases: z.array(z.string()).default([]),
      /** Read the expiry from the access token's JWT `exp` claim when no lifetime is given. */
      expiryFromJwt: z.boolean().default(false),
      /** Grants whose answer carries only a refresh token (bookingtime's first step). */
      refreshTokenOnlyGrants: z.array(z.enum(GRANTS)).default([]),
      /** Lifetime of a refresh token when the answer does not say, in seconds. */
      refreshTokenLifetime: z.number().int().positive().optional(),
    })
    .default({ expiresInAliases: [], expiryFromJwt: false, refreshTokenOnlyGrants: [] }),

  refresh: z
    .strictObject({
      /** Each refresh returns a new refresh token and the old one stops working. */
      rotates: z.boolean().default(false),
      /** The previous refresh token still works for a while after rotation (safe to retry with it). */
      previousTokenGrace: z.boolean().default(false),
      /**
       * How an access token is renewed when it is due: with the refresh token, or by running
       * the client-credentials grant again (providers that issue no refresh token).
       */
      renewWith: z.enum(['refresh_token', 'client_credentials']).default('refresh_token'),
      /** A refresh token that expires is renewed by this grant before it ends (bookingtime). */
      refreshTokenRenewal: z.enum(['client_credentials']).optional(),
      /** Refresh at least this often even when idle, so a grant that dies unused stays alive. */
      keepAliveSeconds: z.number().int().positive().optional(),
      /**
       * Which access tokens the background refresher renews before they are due (docs/providers.md):
       * `always` every one; `when-used-within` those of connections that handed out a token within
       * `usedWithin`; `on-use` none, a token is renewed when it is asked for. Whatever the policy,
       * a grant that would otherwise end (keep-alive, an expiring refresh token) is still renewed.
       */
      proactive: z.enum(REFRESH_POLICIES).default('always'),
      /** For `when-used-within`: how recent a use keeps the tokens renewed ahead (`24h`, `90m`, `7d`). */
      usedWithin: z
        .string()
        .refine((value) => (durationMs(value) ?? 0) > 0, 'not a duration: write e.g. 24h, 90m or 7d')
        .optional(),
    })
    .refine((refresh) => refresh.proactive !== 'when-used-within' || refresh.usedWithin !== undefined, {
      path: ['usedWithin'],
      message: 'required when proactive is "when-used-within" (e.g. "24h")',
    })
    .default({ rotates: false, previousTokenGrace: false, renewWith: 'refresh_token', proactive: 'always' }),

  api: z
    .object({
      /** Headers sent on every API call; templates, dropped when a placeholder has no value. */
      headers: z.record(z.string(), template).default({}),
      /** Path placeholders look like `@name` (BookyFlow) rather than `{name}`. */
      placeholderStyle: z.enum(['at', 'braces']).default('braces'),
      /** Paths reachable without a token. */
      publicPaths: z.array(z.string()).default([]),
    })
    .default({ headers: {}, placeholderStyle: 'braces', publicPaths: [] }),

  /**
   * A static API key a person can connect with instead of an authorization (Booking Experts'
   * key "for quick result needs"): sent in `header` as `format` with `{key}` replaced, never
   * refreshed. Absent: the platform offers no API keys.
   */
  apiKey: z
    .object({
      /** Header name (`X-API-KEY`; `authorization` with a format like `Token {key}`). */
      header: z.string().regex(/^[A-Za-z0-9-]+$/),
      format: z
        .string()
        .refine((value) => value.includes('{key}'), 'format must contain {key}')
        .default('{key}'),
      /** A GET answered only to a working key: checked before a key is stored (optional). */
      verifyPath: z.string().startsWith('/').optional(),
    })
    .optional(),
  /** Options a connect call takes (bookingtime's organization id, BookyFlow's channel). */
  connectOptions: z.array(connectOptionSchema).default([]),
  postConnect: z.array(postConnectStepSchema).default([]),
})

export type ProviderDefinitionInput = z.input<typeof providerDefinitionSchema>
export type ProviderDefinition = z.output<typeof providerDefinitionSchema>

export function defineProvider(input: ProviderDefinitionInput): ProviderDefinition {
  return providerDefinitionSchema.parse(input)
}

// Code that must not load zod at start-up reaches the schema through validation.ts.
useProviderSchema(providerDefinitionSchema)
