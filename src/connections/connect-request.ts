// What a connect asks for, checked against the provider definition before anything is sent:
// the grant (the provider must offer it), the scopes (RFC 6749 scope tokens; unknown ones refused
// or warned about as the provider says), and the provider's connect options (bookingtime's
// organization, BookyFlow's channel, BookingSync's account_id on the authorize URL).
import { ConfigError } from '../errors.js'
import { type ConnectGrant, connectGrantsOf } from '../providers/grants.js'
import type { ProviderDefinition } from '../providers/schema.js'
import type { ResolvedApp } from './context.js'

export interface ConnectOptions {
  /** The connection's name within the app (default `main`). */
  name?: string
  scopes?: string[]
  /** Override the app's redirect URI for this authorization (e.g. a loopback listener). */
  redirectUri?: string
  /** Extra authorize-URL parameters (e.g. BookingSync's `account_id`). */
  authorizeParams?: Record<string, string>
  /**
   * Connect with a static API key instead (providers whose definition declares `apiKey`, e.g.
   * Booking Experts): stored sealed, never refreshed.
   */
  apiKey?: string
  /**
   * The grant that makes the connection, where the provider offers several (bookingtime: user
   * authentication with `authorization_code`; generic `oauth2`). Default: the provider's.
   */
  grant?: ConnectGrant
  /**
   * `false`: refuse (`conflict`) rather than replace an existing connection of the same name
   * (connect links). Default: a new grant replaces it (the owner's reconnect).
   */
  replace?: boolean
  /** Provider connect options: bookingtime's `organizationId`, BookyFlow's `channel`. */
  [option: string]: unknown
}

/** The provider connect options given, as strings (empty ones left out). */
export function providerOptions(app: ResolvedApp, options: ConnectOptions): Record<string, string> {
  const out: Record<string, string> = {}
  for (const option of app.provider.connectOptions) {
    const value = options[option.name]
    if (value !== undefined && value !== null && value !== '') out[option.name] = String(value)
  }
  return out
}

/** Connect options the provider also sends on the authorize URL (BookingSync's `account_id`). */
export function authorizeParamsFromOptions(
  app: ResolvedApp,
  options: ConnectOptions,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const option of app.provider.connectOptions) {
    const value = options[option.name]
    if (option.authorizeParam && value !== undefined && value !== null && value !== '') {
      out[option.authorizeParam] = String(value)
    }
  }
  return out
}

export function requireConnectOptions(app: ResolvedApp, options: Record<string, string>): void {
  const missing = app.provider.connectOptions.filter((option) => option.required && !options[option.name])
  if (missing.length > 0) {
    const list = missing
      .map((option) => `${option.name} (${option.description}; CLI --${option.flag})`)
      .join(', ')
    throw new ConfigError('invalid_config', `Connecting a ${app.provider.displayName} app needs ${list}.`)
  }
}

/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`; any such scope may be asked for. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

const GRANT_WORDS: Record<ConnectGrant, string> = {
  authorization_code: 'an authorization in the browser (authorization_code)',
  client_credentials: 'the app’s own credentials (client_credentials)',
}

/** What the provider definition says to anyone connecting with this grant (at most one sentence). */
export function connectNotices(provider: ProviderDefinition, grant: ConnectGrant): string[] {
  const notice = provider.connectNotices[grant]
  return notice ? [notice] : []
}

/** Refuses a grant the provider definition does not offer for connecting, naming those it does. */
export function requireConnectGrant(app: ResolvedApp, grant: ConnectGrant): void {
  const offered = connectGrantsOf(app.provider)
  if (offered.includes(grant)) return
  throw new ConfigError(
    'invalid_config',
    `${app.provider.displayName} apps do not connect with ${grant}; they connect with ${offered.map((g) => GRANT_WORDS[g]).join(' or ')}.`,
    { details: { grant, offered } },
  )
}

export function chooseScopes(app: ResolvedApp, requested?: string[]): string[] {
  const scopes = [...new Set(requested ?? app.record.scopes ?? app.provider.scopes.default)]
  const malformed = scopes.find((scope) => !SCOPE_TOKEN.test(scope))
  if (malformed !== undefined) {
    throw new ConfigError(
      'invalid_scope',
      `${JSON.stringify(malformed)} is not a valid scope: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3). Separate several scopes with spaces.`,
    )
  }
  const unknown = unknownScopes(app.provider, scopes)
  if (unknown.length > 0 && app.provider.scopes.unknown === 'refuse') {
    throw new ConfigError(
      'invalid_scope',
      `${app.provider.displayName} does not know the scope${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}. Known scopes: ${app.provider.scopes.known.join(', ')}.`,
    )
  }
  return scopes
}

/** Scopes outside the provider definition's known list (none when it lists none). */
export function unknownScopes(provider: ProviderDefinition, scopes: string[]): string[] {
  const known = provider.scopes.known
  return known.length > 0 ? scopes.filter((scope) => !known.includes(scope)) : []
}

/**
 * The warning for scopes the provider definition does not list, where it passes them on
 * (`scopes.unknown: 'warn'`): the platform may know them, or refuse them with `invalid_scope`.
 */
export function scopeWarnings(provider: ProviderDefinition, scopes: string[]): string[] {
  const unknown = provider.scopes.unknown === 'warn' ? unknownScopes(provider, scopes) : []
  if (unknown.length === 0) return []
  const plural = unknown.length > 1
  return [
    `${provider.displayName} does not list the scope${plural ? 's' : ''} ${unknown.join(', ')} among its known scopes; Innkeeper asks for ${plural ? 'them' : 'it'} anyway, and the platform may refuse (invalid_scope). Known scopes: ${provider.scopes.known.join(', ')}.`,
  ]
}
