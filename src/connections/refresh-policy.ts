// The refresh policy: when a token counts as due (a margin proportional to its lifetime, so a
// 5-minute bookingtime token and a 7-day Booking Experts token are both renewed in time), which
// tokens the background refresher renews ahead of use (the provider's `refresh.proactive`), when
// an idle connection is refreshed anyway (keep-alive, an expiring refresh token), how failed
// token requests are retried (inline, with jittered exponential delays or `Retry-After`), how a
// failing connection backs off, and the failure window after which it is given up.
import { ConfigError, isInnkeeperError } from '../errors.js'
import { durationMs } from '../model/duration.js'
import type { TokenSet } from '../model/token-set.js'
import type { ProviderDefinition } from '../providers/schema.js'
import type { ConnectionRecord } from '../stores/store.js'

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

/** The provider and the app's own settings: what the policy reads of an app. */
export interface PolicyApp {
  record: { settings: Record<string, unknown> }
  provider: ProviderDefinition
}

/**
 * A connection made with client credentials whose expiring refresh token the provider renews by
 * running that grant again (bookingtime); a person's grant cannot be renewed that way.
 */
export function renewsByClientCredentials(
  provider: ProviderDefinition,
  metadata: Record<string, unknown>,
): boolean {
  return (
    provider.refresh.refreshTokenRenewal === 'client_credentials' && metadata.grant === 'client_credentials'
  )
}

/** What a connection's next background refresh depends on, besides its app. */
export interface RefreshFacts {
  tokens: TokenSet | null
  metadata: Record<string, unknown>
  /** When the grant was last exercised: its last refresh (absent: its connect, `createdAt`). */
  lastRefreshAt?: number
  /** When a token of it was last handed out; never: it counts from `createdAt`. */
  lastUsedAt?: number
  createdAt: number
}

/**
 * The next time the background refresher should touch this connection. Two reasons, the earlier
 * wins: the grant must be exercised or it ends (the keep-alive of a refresh token that dies unused;
 * an expiring refresh token that a refresh renews), whatever the policy; and the access token is
 * coming due and the provider's `refresh.proactive` policy renews it ahead of use (`always`;
 * `when-used-within` while the connection was used within `usedWithin` of that moment; never for
 * `on-use`, whose tokens are renewed when asked for). Undefined: nothing to do until a use.
 */
export function nextRefreshDue(facts: RefreshFacts, app: PolicyApp): number | undefined {
  const { tokens } = facts
  if (!tokens) return undefined
  const candidates: Array<number | undefined> = [grantDueAt(facts, app)]
  const accessDue = accessTokenDueAt(tokens)
  if (accessDue !== undefined && renewsAhead(app.provider, facts, accessDue)) candidates.push(accessDue)
  const defined = candidates.filter((value): value is number => value !== undefined)
  // Whole milliseconds: stores keep the due time in an integer column.
  return defined.length > 0 ? Math.floor(Math.min(...defined)) : undefined
}

/** When the grant itself needs a refresh to stay alive (keep-alive, expiring refresh token). */
function grantDueAt(facts: RefreshFacts, app: PolicyApp): number | undefined {
  const { tokens } = facts
  const candidates: number[] = []
  const keepAlive = keepAliveSeconds(app)
  if (keepAlive) candidates.push((facts.lastRefreshAt ?? facts.createdAt) + keepAlive * 1000)
  const renewal = tokens ? refreshTokenRenewalDueAt(tokens) : undefined
  // Only where a refresh yields a refresh token that lives longer: rotation, or the provider's grant.
  if (
    renewal !== undefined &&
    (app.provider.refresh.rotates || renewsByClientCredentials(app.provider, facts.metadata))
  )
    candidates.push(renewal)
  return candidates.length > 0 ? Math.min(...candidates) : undefined
}

/** Whether the provider's policy renews an access token due at `accessDue` before anyone asks. */
function renewsAhead(provider: ProviderDefinition, facts: RefreshFacts, accessDue: number): boolean {
  const { proactive, usedWithin } = provider.refresh
  if (proactive === 'on-use') return false
  if (proactive === 'always') return true
  return accessDue <= (facts.lastUsedAt ?? facts.createdAt) + usedWithinMs(usedWithin)
}

function usedWithinMs(usedWithin: string | undefined): number {
  return usedWithin === undefined ? 0 : (durationMs(usedWithin) ?? 0)
}

/** How often a use is noted in memory, at most, where the policy does not read it: hourly. */
export const USE_NOTE_MS = 60 * 60_000
/** Uses closer together than this are never noted apart. */
export const USE_NOTE_MIN_MS = 60_000

/**
 * How often a connection's use is noted at most (`lastUsedAt`), and whether each note is saved at
 * once: `when-used-within` reads it, so a note is saved when a quarter of the window has passed
 * since the last one (at least a minute apart); every other policy only notes it hourly in memory,
 * and it is saved with the connection's next write.
 */
export function useNoting(provider: ProviderDefinition): { everyMs: number; save: boolean } {
  const { proactive, usedWithin } = provider.refresh
  if (proactive !== 'when-used-within') return { everyMs: USE_NOTE_MS, save: false }
  return { everyMs: Math.max(USE_NOTE_MIN_MS, usedWithinMs(usedWithin) / 4), save: true }
}

/** The keep-alive of an app: its own `keepAliveSeconds` setting, else its provider's. */
export function keepAliveSeconds(app: PolicyApp): number | undefined {
  const value = Number(app.record.settings.keepAliveSeconds)
  return Number.isFinite(value) && value > 0 ? value : app.provider.refresh.keepAliveSeconds
}

export interface RetryPolicy {
  /** Token-request attempts on transient failures before giving up (first try included). */
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** A `Retry-After` longer than this is not waited for inline. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 30_000,
}

/**
 * The pause before token-request attempt `attempt + 1` after a transient `error`: what its
 * `Retry-After` says (undefined, i.e. do not wait inline, when that is too long), else a
 * jittered exponential delay.
 */
export function retryDelay(retry: RetryPolicy, error: unknown, attempt: number): number | undefined {
  const retryAfter = isInnkeeperError(error) ? error.details.retryAfterSeconds : undefined
  if (typeof retryAfter === 'number') {
    const ms = retryAfter * 1000
    return ms <= retry.maxRetryAfterMs ? ms : undefined
  }
  const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1))
  return exponential / 2 + Math.random() * (exponential / 2)
}

/**
 * How long the background refresher leaves a connection alone after its `failures`-th failure in
 * a row: 30 s doubling to an hour, but never past half the time its access token still works
 * (at least a second), so it is tried again while it is usable.
 */
export function failureBackoffMs(failures: number, tokens: TokenSet | null | undefined, now: number): number {
  const expiresAt = tokens?.expiresAt
  const untilExpiry =
    expiresAt !== undefined && expiresAt > now ? (expiresAt - now) / 2 : Number.POSITIVE_INFINITY
  return Math.min(60 * 60_000, 30_000 * 2 ** Math.min(failures - 1, 7), Math.max(1_000, untilExpiry))
}

/** Pauses between attempts to commit a rotated token set to a store that refuses writes. */
export const COMMIT_RETRY_MIN_MS = 100
export const COMMIT_RETRY_MAX_MS = 2_000

/** Pauses while waiting for another process's refresh of the same connection. */
export const WAIT_MIN_MS = 20
export const WAIT_MAX_MS = 100

/** How long a connection may keep failing before it is marked `error` for good (3 days). */
export const DEFAULT_FAILURE_WINDOW_MS = 3 * 24 * 60 * 60_000

/**
 * The failure window, given in ms or as a duration (`90m`, `12h`, `3d`);
 * INNKEEPER_FAILURE_WINDOW sets the default.
 */
export function failureWindowFrom(value: number | string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_FAILURE_WINDOW_MS
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  const ms = durationMs(String(value))
  if (ms === undefined) {
    throw new ConfigError(
      'invalid_config',
      `The failure window "${String(value).slice(0, 40)}" is not a duration; write e.g. 3d, 12h or 90m (INNKEEPER_FAILURE_WINDOW).`,
    )
  }
  return ms
}

/** When a connection failing since `since` is given up at `now` (the failure window is over). */
export function isFailureWindowOver(since: number, now: number, failureWindowMs: number): boolean {
  return now - since >= failureWindowMs
}

/** Marked `error` for good after the failure window: only a forced (manual) refresh tries again. */
export function isGivenUp(record: ConnectionRecord): boolean {
  return record.state === 'error' && record.lastError?.final === true
}
