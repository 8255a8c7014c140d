// One normaliser for every platform's token answer. Hand-written rather than oauth4webapi's
// processor because the platforms answer in ways a strict RFC 6749 parser rejects: bookingtime
// returns a refresh token with no access token and `expires_in` as a string, Booking Experts
// says `expires`, and lifetimes may only be found in a JWT's `exp` claim.
import { TokenEndpointError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { Grant, ProviderDefinition } from '../providers/schema.js'

export interface NormaliseContext {
  provider: ProviderDefinition
  grant: Grant
  now: number
  /** The token set being refreshed: kept values fill what the answer leaves out (refresh token, scope). */
  previous?: TokenSet | null
}

function invalid(provider: ProviderDefinition, what: string): TokenEndpointError {
  return new TokenEndpointError(
    'invalid_response',
    `${provider.displayName}'s token endpoint answered with ${what}, not a token. Check the token URL; if it is right, the platform may be failing.`,
  )
}

/** The longest lifetime believed (one year): beyond it a date is nonsense, or not a date at all. */
export const MAX_TOKEN_LIFETIME_SECONDS = 366 * 86_400

/**
 * A lifetime the platform stated, bounded: over a year is cut to a year, and 0 stays 0 (the
 * token "expires now"; the refresh policy then reuses it for a minute rather than refreshing in a loop).
 * Either case is reported as a process warning (code INNKEEPER_TOKEN_LIFETIME), without a token.
 */
function bounded(seconds: number, what: string, provider: ProviderDefinition): number {
  if (seconds > MAX_TOKEN_LIFETIME_SECONDS) {
    warnLifetime(
      `${provider.displayName} said the ${what} lives ${seconds} s; Innkeeper uses ${MAX_TOKEN_LIFETIME_SECONDS} s (one year) and refreshes it then.`,
    )
    return MAX_TOKEN_LIFETIME_SECONDS
  }
  if (seconds === 0) {
    warnLifetime(
      `${provider.displayName} said the ${what} expires at once (lifetime 0); Innkeeper uses it until the API refuses it, renewing at most once a minute.`,
    )
  }
  return seconds
}

function warnLifetime(message: string): void {
  process.emitWarning(message, { code: 'INNKEEPER_TOKEN_LIFETIME' })
}

/** An absolute expiry (from a JWT's `exp`) no later than a year from now. */
function boundedExpiry(
  expiresAt: number | undefined,
  now: number,
  what: string,
  provider: ProviderDefinition,
): number | undefined {
  if (expiresAt === undefined || expiresAt <= now + MAX_TOKEN_LIFETIME_SECONDS * 1000) return expiresAt
  return now + bounded(Math.ceil((expiresAt - now) / 1000), what, provider) * 1000
}

/** Reads a lifetime in seconds from a number or a numeric string; rejects anything else. */
function lifetime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
  if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value)
  return undefined
}

/** The `exp` claim of a JWT, in ms, without verifying it (we are its bearer, not its audience). */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[1]) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    const exp = payload && typeof payload === 'object' ? (payload as Record<string, unknown>).exp : undefined
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

function optionalString(
  body: Record<string, unknown>,
  key: string,
  provider: ProviderDefinition,
): string | undefined {
  const value = body[key]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw invalid(provider, `a "${key}" that is not a string`)
  return value
}

export function normaliseTokenResponse(
  body: Record<string, unknown> | undefined,
  text: string,
  context: NormaliseContext,
): TokenSet {
  const { provider, grant, now } = context
  if (!body) {
    // Never a byte of the answer: a cut-off token answer starts with the token itself.
    const shown = text.trim()
      ? `a body that is not a JSON object (${Buffer.byteLength(text)} bytes)`
      : 'an empty body'
    throw invalid(provider, /^\s*</.test(text) ? 'an HTML page' : shown)
  }
  const accessToken = optionalString(body, 'access_token', provider)
  const refreshToken = optionalString(body, 'refresh_token', provider)
  const refreshOnly = provider.tokenResponse.refreshTokenOnlyGrants.includes(grant)

  if (refreshOnly) {
    if (!refreshToken) throw invalid(provider, 'an answer without the refresh token this grant must return')
  } else if (!accessToken) {
    throw invalid(provider, 'an answer without an access token')
  }

  const tokenType = optionalString(body, 'token_type', provider) ?? 'Bearer'
  if (tokenType.toLowerCase() !== 'bearer') {
    throw invalid(provider, 'a token type other than Bearer; Innkeeper supports Bearer tokens')
  }

  let seconds = lifetime(body.expires_in)
  for (const alias of provider.tokenResponse.expiresInAliases) {
    if (seconds === undefined) seconds = lifetime(body[alias])
  }
  if (body.expires_in !== undefined && body.expires_in !== null && lifetime(body.expires_in) === undefined) {
    throw invalid(provider, 'an "expires_in" that is not a number of seconds')
  }
  const tokenKind = refreshOnly && !accessToken ? 'refresh token' : 'access token'
  if (seconds !== undefined) seconds = bounded(seconds, tokenKind, provider)

  const scopeText = optionalString(body, 'scope', provider)
  const scope = scopeText ? scopeText.split(/[\s,]+/).filter(Boolean) : context.previous?.scope

  const set: TokenSet = { tokenType: 'Bearer', obtainedAt: now }
  if (scope) set.scope = scope

  if (refreshOnly && !accessToken) {
    // The answer's lifetime belongs to the refresh token (bookingtime: 30 days).
    set.refreshToken = refreshToken
    const refreshLifetime = seconds ?? provider.tokenResponse.refreshTokenLifetime
    const fromJwt = provider.tokenResponse.expiryFromJwt
      ? boundedExpiry(jwtExpiry(refreshToken!), now, 'refresh token', provider)
      : undefined
    set.refreshTokenExpiresAt = refreshLifetime !== undefined ? now + refreshLifetime * 1000 : fromJwt
    return set
  }

  set.accessToken = accessToken
  if (seconds !== undefined) set.expiresAt = now + seconds * 1000
  else if (provider.tokenResponse.expiryFromJwt)
    set.expiresAt = boundedExpiry(jwtExpiry(accessToken!), now, 'access token', provider)

  // A refresh answer without a refresh token keeps the one we have (non-rotating providers).
  const keptRefresh = refreshToken ?? context.previous?.refreshToken
  if (keptRefresh) {
    set.refreshToken = keptRefresh
    const stated = refreshToken ? lifetime(body.refresh_token_expires_in) : undefined
    const refreshExpiry = stated === undefined ? undefined : bounded(stated, 'refresh token', provider)
    if (refreshExpiry !== undefined) set.refreshTokenExpiresAt = now + refreshExpiry * 1000
    else if (!refreshToken && context.previous?.refreshTokenExpiresAt) {
      set.refreshTokenExpiresAt = context.previous.refreshTokenExpiresAt
    }
  }
  return set
}
