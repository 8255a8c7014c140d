// The token bookkeeping shared by every emulator: authorization codes (single use, 10 minutes,
// PKCE), token families (everything descending from one authorization), rotation, reuse
// detection with a grace period, expiry and revocation. Synchronous, so one request's check and
// commit can never interleave with another's.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { EmulatorClock } from './clock.js'
import type { EmulatorConfig } from './config.js'
import { OAuthError } from './oauth-error.js'
import type { EmulatorStats } from './stats.js'

export interface FamilyRecord {
  id: string
  clientId: string
  scope: string[]
  /** The redirect URI of the authorization step (BookingSync wants it again on refresh). */
  redirectUri: string | null
  organizationId: string | null
  origin: 'authorization_code' | 'client_credentials'
  createdAtMs: number
  revoked: boolean
  revokedReason: string | null
  refreshCount: number
  currentRefreshToken: string | null
  currentAccessToken: string | null
}

export interface AccessTokenRecord {
  token: string
  familyId: string
  clientId: string
  scope: string[]
  organizationId: string | null
  issuedAtMs: number
  expiresAtMs: number
  revoked: boolean
}

export interface RefreshTokenRecord {
  token: string
  familyId: string
  issuedAtMs: number
  expiresAtMs: number | null
  status: 'active' | 'rotated' | 'revoked'
  rotatedAtMs: number | null
}

export interface AuthorizationCodeRecord {
  code: string
  clientId: string
  redirectUri: string
  scope: string[]
  codeChallenge: string | null
  codeChallengeMethod: 'S256' | 'plain' | null
  organizationId: string | null
  expiresAtMs: number
  used: boolean
  familyId: string | null
}

/** How a platform's tokens look; given the record's facts, returns the token string. */
export interface TokenMinter {
  accessToken(facts: {
    family: FamilyRecord
    issuedAtMs: number
    expiresAtMs: number
    organizationId: string | null
  }): string
  refreshToken(facts: { family: FamilyRecord; issuedAtMs: number; expiresAtMs: number | null }): string
}

export interface RefreshOutcome {
  family: FamilyRecord
  /** The refresh token the answer carries: a new one after rotation, else the one presented. */
  refreshToken: RefreshTokenRecord
  rotated: boolean
  /** A rotated token accepted inside the grace period: answer with the family's current pair. */
  replay: boolean
}

export type AccessTokenCheck =
  | { ok: true; token: AccessTokenRecord; family: FamilyRecord }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }

export interface AuthorityDeps {
  clock: EmulatorClock
  config: () => EmulatorConfig
  stats: EmulatorStats
  minter: TokenMinter
}

export class TokenAuthority {
  private readonly codes = new Map<string, AuthorizationCodeRecord>()
  private readonly families = new Map<string, FamilyRecord>()
  private readonly accessTokens = new Map<string, AccessTokenRecord>()
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>()
  private readonly refreshTokensByFamily = new Map<string, string[]>()

  constructor(private readonly deps: AuthorityDeps) {}

  private now(): number {
    return this.deps.clock.nowMs()
  }

  issueCode(
    input: Omit<AuthorizationCodeRecord, 'code' | 'expiresAtMs' | 'used' | 'familyId'>,
  ): AuthorizationCodeRecord {
    const record: AuthorizationCodeRecord = {
      ...input,
      code: randomBytes(24).toString('base64url'),
      expiresAtMs: this.now() + this.deps.config().authorizationCodeTtl * 1000,
      used: false,
      familyId: null,
    }
    this.codes.set(record.code, record)
    return record
  }

  /** Exchanges a code for a new family; the code works once, for its client and redirect URI. */
  redeemCode(
    clientId: string,
    code: string | undefined,
    redirectUri: string | undefined,
    verifier: string | undefined,
  ): FamilyRecord {
    if (!code) throw new OAuthError('invalid_request', 'The code parameter is missing.')
    const record = this.codes.get(code)
    if (!record || record.clientId !== clientId) {
      throw new OAuthError('invalid_grant', 'The authorization code is invalid.')
    }
    if (record.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it issued.
      this.deps.stats.codeReuseDetected += 1
      if (record.familyId) this.revokeFamily(record.familyId, 'authorization code reused')
      throw new OAuthError('invalid_grant', 'The authorization code was already used.')
    }
    if (this.now() >= record.expiresAtMs) {
      throw new OAuthError('invalid_grant', 'The authorization code expired.')
    }
    if (redirectUri !== record.redirectUri) {
      throw new OAuthError(
        'invalid_grant',
        'The redirect_uri does not match the one of the authorization request.',
      )
    }
    if (record.codeChallenge) {
      if (!verifier) throw new OAuthError('invalid_grant', 'The code_verifier is missing (PKCE).')
      const computed =
        record.codeChallengeMethod === 'plain'
          ? verifier
          : createHash('sha256').update(verifier).digest('base64url')
      if (computed !== record.codeChallenge)
        throw new OAuthError('invalid_grant', 'The code_verifier does not match (PKCE).')
    } else if (verifier) {
      throw new OAuthError(
        'invalid_grant',
        'A code_verifier was sent for a code issued without code_challenge.',
      )
    }
    record.used = true
    const family = this.startFamily({
      clientId,
      scope: record.scope,
      redirectUri: record.redirectUri,
      organizationId: record.organizationId,
      origin: 'authorization_code',
    })
    record.familyId = family.id
    return family
  }

  startFamily(
    input: Pick<FamilyRecord, 'clientId' | 'scope' | 'redirectUri' | 'organizationId' | 'origin'>,
  ): FamilyRecord {
    const family: FamilyRecord = {
      ...input,
      id: `fam_${randomUUID().slice(0, 8)}`,
      createdAtMs: this.now(),
      revoked: false,
      revokedReason: null,
      refreshCount: 0,
      currentRefreshToken: null,
      currentAccessToken: null,
    }
    this.families.set(family.id, family)
    return family
  }

  issueAccessToken(
    family: FamilyRecord,
    ttlSeconds: number,
    organizationId: string | null = family.organizationId,
  ): AccessTokenRecord {
    const issuedAtMs = this.now()
    const expiresAtMs = issuedAtMs + ttlSeconds * 1000
    const record: AccessTokenRecord = {
      token: this.deps.minter.accessToken({ family, issuedAtMs, expiresAtMs, organizationId }),
      familyId: family.id,
      clientId: family.clientId,
      scope: family.scope,
      organizationId,
      issuedAtMs,
      expiresAtMs,
      revoked: false,
    }
    this.accessTokens.set(record.token, record)
    family.currentAccessToken = record.token
    return record
  }

  /** The family's newest access token while it is valid for `organizationId`, else a new one. */
  currentOrNewAccessToken(
    family: FamilyRecord,
    ttlSeconds: number,
    organizationId: string | null = family.organizationId,
  ): AccessTokenRecord {
    const current = family.currentAccessToken ? this.accessTokens.get(family.currentAccessToken) : undefined
    if (
      current &&
      !current.revoked &&
      current.expiresAtMs > this.now() &&
      current.organizationId === organizationId
    ) {
      return current
    }
    return this.issueAccessToken(family, ttlSeconds, organizationId)
  }

  issueRefreshToken(family: FamilyRecord): RefreshTokenRecord {
    const issuedAtMs = this.now()
    const ttl = this.deps.config().refreshTokenTtl
    const expiresAtMs = ttl === null ? null : issuedAtMs + ttl * 1000
    const record: RefreshTokenRecord = {
      token: this.deps.minter.refreshToken({ family, issuedAtMs, expiresAtMs }),
      familyId: family.id,
      issuedAtMs,
      expiresAtMs,
      status: 'active',
      rotatedAtMs: null,
    }
    this.refreshTokens.set(record.token, record)
    const list = this.refreshTokensByFamily.get(family.id) ?? []
    list.push(record.token)
    this.refreshTokensByFamily.set(family.id, list)
    family.currentRefreshToken = record.token
    return record
  }

  /**
   * Checks and commits a refresh. `verify` runs after the token is found and before anything
   * changes (BookingSync's redirect_uri check, bookingtime's organization check).
   */
  refresh(
    clientId: string,
    token: string | undefined,
    verify?: (family: FamilyRecord) => void,
  ): RefreshOutcome {
    if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is missing.')
    const record = this.refreshTokens.get(token)
    const family = record ? this.families.get(record.familyId) : undefined
    if (!record || !family || family.clientId !== clientId) {
      throw new OAuthError('invalid_grant', 'The refresh token is invalid.')
    }
    const { stats } = this.deps
    stats.countRefreshTokenUse(token)
    if (family.revoked || record.status === 'revoked') {
      throw new OAuthError('invalid_grant', 'The refresh token was revoked.')
    }
    const now = this.now()
    if (record.expiresAtMs !== null && now >= record.expiresAtMs) {
      throw new OAuthError('invalid_grant', 'The refresh token expired.')
    }
    verify?.(family)
    const config = this.deps.config()
    if (record.status === 'rotated') {
      // A grace period of 0 is none, even for a retry in the very millisecond of the rotation.
      const grace = config.reuseGraceSeconds * 1000
      if (grace > 0 && record.rotatedAtMs !== null && now - record.rotatedAtMs <= grace) {
        const current = family.currentRefreshToken
          ? this.refreshTokens.get(family.currentRefreshToken)
          : undefined
        if (current && current.status === 'active') {
          stats.graceReplays += 1
          return { family, refreshToken: current, rotated: false, replay: true }
        }
      }
      if (config.reuseDetection) {
        stats.reuseDetected += 1
        this.revokeFamily(family.id, 'refresh token reused')
        throw new OAuthError(
          'invalid_grant',
          'The refresh token was already used; every token of this authorization has been revoked.',
        )
      }
      throw new OAuthError('invalid_grant', 'The refresh token was already used.')
    }
    family.refreshCount += 1
    stats.countRefresh(family.id)
    if (!config.rotateRefreshTokens) return { family, refreshToken: record, rotated: false, replay: false }
    record.status = 'rotated'
    record.rotatedAtMs = now
    return { family, refreshToken: this.issueRefreshToken(family), rotated: true, replay: false }
  }

  checkAccessToken(token: string): AccessTokenCheck {
    const record = this.accessTokens.get(token)
    const family = record ? this.families.get(record.familyId) : undefined
    if (!record || !family) return { ok: false, reason: 'unknown' }
    if (record.revoked || family.revoked) return { ok: false, reason: 'revoked' }
    if (this.now() >= record.expiresAtMs) return { ok: false, reason: 'expired' }
    return { ok: true, token: record, family }
  }

  revokeFamily(familyId: string, reason: string): boolean {
    const family = this.families.get(familyId)
    if (!family || family.revoked) return false
    family.revoked = true
    family.revokedReason = reason
    for (const token of this.refreshTokensByFamily.get(familyId) ?? []) {
      const record = this.refreshTokens.get(token)
      if (record) record.status = 'revoked'
    }
    this.deps.stats.familiesRevoked += 1
    return true
  }

  /** The owner uninstalled the app: every grant is gone. Returns how many families were revoked. */
  revokeAll(reason = 'app uninstalled'): number {
    let revoked = 0
    for (const family of this.families.values()) if (this.revokeFamily(family.id, reason)) revoked += 1
    return revoked
  }

  /** RFC 7009: an access token is revoked alone; a refresh token takes its family with it. */
  revokeToken(clientId: string, token: string): void {
    const access = this.accessTokens.get(token)
    if (access && access.clientId === clientId) {
      access.revoked = true
      return
    }
    const refresh = this.refreshTokens.get(token)
    const family = refresh ? this.families.get(refresh.familyId) : undefined
    if (family && family.clientId === clientId) this.revokeFamily(family.id, 'token revoked by the client')
  }

  familyOfToken(token: string): FamilyRecord | undefined {
    const id = this.refreshTokens.get(token)?.familyId ?? this.accessTokens.get(token)?.familyId
    return id ? this.families.get(id) : undefined
  }

  listFamilies(): Array<Omit<FamilyRecord, 'currentRefreshToken' | 'currentAccessToken'>> {
    return [...this.families.values()].map(
      ({ currentRefreshToken: _r, currentAccessToken: _a, ...rest }) => ({
        ...rest,
      }),
    )
  }

  familyCounts(): { total: number; active: number; revoked: number } {
    let revoked = 0
    for (const family of this.families.values()) if (family.revoked) revoked += 1
    return { total: this.families.size, active: this.families.size - revoked, revoked }
  }

  reset(): void {
    this.codes.clear()
    this.families.clear()
    this.accessTokens.clear()
    this.refreshTokens.clear()
    this.refreshTokensByFamily.clear()
  }
}
