// Counters a test reads through `GET {adminUrl}/stats` or `handle.stats()`: token requests by
// grant, errors by code, injected faults, reuse detection and refreshes per family and token.
import { tokenFingerprint } from './tokens.js'

export interface EmulatorStatsSnapshot {
  /** Every token request received, by `grant_type` (`missing` when absent), plus `total`. */
  tokenRequests: Record<string, number>
  /**
   * The field names (never values) of the last token request per `grant_type`, sorted;
   * `authorization` stands for an Authorization header.
   */
  lastTokenRequestFields: Record<string, string[]>
  /** Token requests answered 200. */
  tokensIssued: number
  /** Token-endpoint error answers by RFC 6749 error code. */
  tokenErrors: Record<string, number>
  /** 429s sent: injected by `rateLimitNext` and from `tokenRequestsPerSecond` together. */
  injected: { failures: number; drops: number; dropsAfterCommit: number; rateLimited: number }
  /** Token requests answered 429 because their client was over `tokenRequestsPerSecond`. */
  overRateLimit: number
  reuseDetected: number
  familiesRevoked: number
  /** Rotated refresh tokens accepted inside the grace period. */
  graceReplays: number
  /** Authorization codes presented a second time. */
  codeReuseDetected: number
  /** Successful refreshes (not grace replays) per token family. */
  refreshesByFamily: Record<string, number>
  /** Every presentation of a known refresh token, keyed by `tokenFingerprint(token)`. */
  refreshesByToken: Record<string, number>
  /** The highest value in `refreshesByToken` (1 means no refresh token was ever used twice). */
  maxUsesOfOneRefreshToken: number
  /** Most token requests in progress at the same moment. */
  peakConcurrentTokenRequests: number
  apiRequests: { total: number; unauthorized: number; forbidden: number }
  /**
   * The `accept` and `accept-language` headers of the last API request (absent ones left out):
   * content negotiation only, never a credential.
   */
  lastApiRequestHeaders: Record<string, string>
  families: { total: number; active: number; revoked: number }
  clock: { nowMs: number; advancedSeconds: number }
}

export class EmulatorStats {
  tokenRequests: Record<string, number> = { total: 0 }
  tokensIssued = 0
  lastTokenRequestFields: Record<string, string[]> = {}
  tokenErrors: Record<string, number> = {}
  injected = { failures: 0, drops: 0, dropsAfterCommit: 0, rateLimited: 0 }
  overRateLimit = 0
  reuseDetected = 0
  familiesRevoked = 0
  graceReplays = 0
  codeReuseDetected = 0
  refreshesByFamily = new Map<string, number>()
  refreshesByToken = new Map<string, number>()
  apiRequests = { total: 0, unauthorized: 0, forbidden: 0 }
  lastApiRequestHeaders: Record<string, string> = {}
  private inFlight = 0
  peakConcurrentTokenRequests = 0

  reset(): void {
    this.tokenRequests = { total: 0 }
    this.tokensIssued = 0
    this.lastTokenRequestFields = {}
    this.tokenErrors = {}
    this.injected = { failures: 0, drops: 0, dropsAfterCommit: 0, rateLimited: 0 }
    this.overRateLimit = 0
    this.reuseDetected = 0
    this.familiesRevoked = 0
    this.graceReplays = 0
    this.codeReuseDetected = 0
    this.refreshesByFamily.clear()
    this.refreshesByToken.clear()
    this.apiRequests = { total: 0, unauthorized: 0, forbidden: 0 }
    this.lastApiRequestHeaders = {}
    this.peakConcurrentTokenRequests = this.inFlight
  }

  countTokenRequest(grant: string): void {
    this.tokenRequests.total = (this.tokenRequests.total ?? 0) + 1
    this.tokenRequests[grant] = (this.tokenRequests[grant] ?? 0) + 1
  }

  recordTokenRequestFields(grant: string, fields: string[]): void {
    this.lastTokenRequestFields[grant] = [...new Set(fields)].sort()
  }

  tokenRequestStarted(): void {
    this.inFlight += 1
    if (this.inFlight > this.peakConcurrentTokenRequests) this.peakConcurrentTokenRequests = this.inFlight
  }

  tokenRequestEnded(): void {
    this.inFlight -= 1
  }

  countTokenError(code: string): void {
    this.tokenErrors[code] = (this.tokenErrors[code] ?? 0) + 1
  }

  countRefreshTokenUse(token: string): void {
    const key = tokenFingerprint(token)
    this.refreshesByToken.set(key, (this.refreshesByToken.get(key) ?? 0) + 1)
  }

  countRefresh(familyId: string): void {
    this.refreshesByFamily.set(familyId, (this.refreshesByFamily.get(familyId) ?? 0) + 1)
  }

  snapshot(extra: Pick<EmulatorStatsSnapshot, 'families' | 'clock'>): EmulatorStatsSnapshot {
    let max = 0
    for (const uses of this.refreshesByToken.values()) if (uses > max) max = uses
    return {
      tokenRequests: { ...this.tokenRequests },
      tokensIssued: this.tokensIssued,
      lastTokenRequestFields: structuredClone(this.lastTokenRequestFields),
      tokenErrors: { ...this.tokenErrors },
      injected: { ...this.injected },
      overRateLimit: this.overRateLimit,
      reuseDetected: this.reuseDetected,
      familiesRevoked: this.familiesRevoked,
      graceReplays: this.graceReplays,
      codeReuseDetected: this.codeReuseDetected,
      refreshesByFamily: Object.fromEntries(this.refreshesByFamily),
      refreshesByToken: Object.fromEntries(this.refreshesByToken),
      maxUsesOfOneRefreshToken: max,
      peakConcurrentTokenRequests: this.peakConcurrentTokenRequests,
      apiRequests: { ...this.apiRequests },
      lastApiRequestHeaders: { ...this.lastApiRequestHeaders },
      ...extra,
    }
  }
}
