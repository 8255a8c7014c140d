// When a token counts as due: a refresh margin proportional to the token's lifetime, so a
// 5-minute bookingtime token and a 7-day Booking Experts token are both renewed in time,
// and the next moment a connection needs work (for the background refresher).
import type { TokenSet } from '../model/token-set.js'
import type { ProviderDefinition } from '../providers/schema.js'

/** Fraction of a token's lifetime kept in reserve before it counts as due. */
export const MARGIN_RATIO = 0.1
export const MIN_MARGIN_MS = 5_000
export const MAX_MARGIN_MS = 10 * 60_000
/** A refresh token that expires is renewed when this fraction of its lifetime remains. */
export const REFRESH_TOKEN_RENEWAL_RATIO = 0.1

export function refreshMargin(obtainedAt: number, expiresAt: number): number {
  const lifetime = Math.max(0, expiresAt - obtainedAt)
  return Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, lifetime * MARGIN_RATIO), lifetime / 2)
}

/**
 * How long a token the platform said "expires at once" (`expires_in: 0`) is used before it is
 * renewed: a refusal from the API renews it sooner, but expiry alone never makes every call (or
 * the background refresher) request a new token in a loop.
 */
export const EXPIRES_NOW_REUSE_MS = 60_000

/** The moment the access token should be replaced; undefined when it never expires. */
export function accessTokenDueAt(tokens: TokenSet): number | undefined {
  if (!tokens.accessToken) return tokens.obtainedAt
  if (tokens.expiresAt === undefined) return undefined
  if (tokens.expiresAt <= tokens.obtainedAt) return tokens.obtainedAt + EXPIRES_NOW_REUSE_MS
  return tokens.expiresAt - refreshMargin(tokens.obtainedAt, tokens.expiresAt)
}

export function isAccessTokenFresh(
  tokens: TokenSet | null | undefined,
  now: number,
): tokens is TokenSet & { accessToken: string } {
  if (!tokens?.accessToken) return false
  const due = accessTokenDueAt(tokens)
  return due === undefined || now < due
}

export function isAccessTokenUsable(
  tokens: TokenSet | null | undefined,
  now: number,
): tokens is TokenSet & { accessToken: string } {
  return Boolean(tokens?.accessToken) && (tokens!.expiresAt === undefined || now < tokens!.expiresAt)
}

/** When an expiring refresh token must be renewed (bookingtime's 30-day token). */
export function refreshTokenRenewalDueAt(tokens: TokenSet): number | undefined {
  if (tokens.refreshTokenExpiresAt === undefined) return undefined
  const lifetime = tokens.refreshTokenExpiresAt - tokens.obtainedAt
  return tokens.refreshTokenExpiresAt - Math.max(lifetime * REFRESH_TOKEN_RENEWAL_RATIO, 60_000)
}

/** The next time the background refresher should touch this connection. */
export function nextRefreshDue(
  tokens: TokenSet | null,
  provider: ProviderDefinition,
  lastRefreshAt: number,
  keepAliveSeconds = provider.refresh.keepAliveSeconds,
): number | undefined {
  if (!tokens) return undefined
  const candidates = [accessTokenDueAt(tokens), refreshTokenRenewalDueAt(tokens)]
  if (keepAliveSeconds) candidates.push(lastRefreshAt + keepAliveSeconds * 1000)
  const defined = candidates.filter((value): value is number => value !== undefined)
  return defined.length > 0 ? Math.min(...defined) : undefined
}
