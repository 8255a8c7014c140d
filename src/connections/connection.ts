// The handle a caller holds for one connection: a valid access token whenever asked, and
// authenticated requests to the platform's API.
import { isInnkeeperError } from '../errors.js'
import { type ApiRequestInit, type ApiTarget, authenticatedFetch, readJson } from '../http/client.js'
import { resolveRequestUrl } from '../http/request-url.js'
import type { ConnectionInfo } from '../model/connection.js'
import { fillTemplates } from '../providers/template.js'
import { type ConnectionRecord, refreshLeaseKey } from '../stores/store.js'
import { apiKeyTarget } from './api-key.js'
import { splitConnectionId } from './connection-id.js'
import type { KeeperContext } from './context.js'
import {
  type CredentialHeader,
  type CredentialKind,
  credentialHeader,
  isApiKeyConnection,
} from './credential.js'
import { unknownConnection } from './keeper-errors.js'
import { completePendingSteps, movedError, PENDING_RETRY_MS, pendingSteps } from './pending-steps.js'
import type { CachedConnection } from './token-cache.js'
import type { TokenKeeper } from './token-keeper.js'
import { toConnectionInfo } from './view.js'

export interface AccessTokenInfo {
  /** The OAuth access token, or the API key of an API-key connection. */
  accessToken: string
  /** `Bearer`, or `api_key` for an API key. */
  tokenType: string
  /** Null when it does not expire (an API key never does). */
  expiresAt: number | null
  kind: CredentialKind
  /** The header to send it in, ready to use: `authorization: Bearer …`, or e.g. `x-api-key: …`. */
  header: CredentialHeader
}

export class Connection {
  private lastTarget: { record: CachedConnection; target: ApiTarget } | undefined
  private pendingRun: Promise<ConnectionRecord> | undefined
  private nextPendingAttempt = 0
  constructor(
    readonly id: string,
    private readonly ctx: KeeperContext,
    private readonly keeper: TokenKeeper,
  ) {}

  /** A valid access token, renewed first if it is due. */
  accessToken(): Promise<string> {
    // Not `async`: a fresh cached token costs one map lookup and one resolved promise.
    return this.keeper.accessTokenValue(this.id)
  }

  /**
   * Whether `token()` would answer without renewing: the cached token is fresh. Nothing cached
   * yet (this process's first use) reads the record into the cache first. Never rejects.
   */
  async freshTokenAtHand(): Promise<boolean> {
    if (this.keeper.freshCached(this.id)) return true
    await this.keeper.cachedRecord(this.id).catch(() => undefined)
    return this.keeper.freshCached(this.id) !== undefined
  }

  /**
   * The access token with its type and expiry, for handing to other services: told as a
   * `token_issued` event, which the audit trail records as `token.issued` (who: `options.actor`,
   * else the surrounding or process actor).
   */
  async token(options: { actor?: string } = {}): Promise<AccessTokenInfo> {
    let tokens: Awaited<ReturnType<TokenKeeper['accessToken']>>
    try {
      tokens = await this.keeper.accessToken(this.id)
    } catch (error) {
      const code = isInnkeeperError(error) ? error.code : undefined
      this.issued('failed', options.actor, code)
      throw error
    }
    this.issued('ok', options.actor)
    const app = await this.ctx.resolveApp((await this.keeper.cachedRecord(this.id)).app)
    return {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      expiresAt: tokens.expiresAt ?? null,
      kind: isApiKeyConnection({ tokens }) ? 'api_key' : 'access_token',
      header: credentialHeader(app.provider, tokens, tokens.accessToken),
    }
  }

  private issued(outcome: 'ok' | 'failed', actor?: string, code?: string): void {
    this.ctx.events.emit('token_issued', {
      connection: this.id,
      outcome,
      ...(code ? { code } : {}),
      ...(actor ? { actor } : {}),
    })
  }

  /** Renews now, even if the token is still fresh. */
  async refresh(): Promise<ConnectionInfo> {
    const record = await this.keeper.refresh(this.id, { force: true })
    return this.view(record)
  }

  async info(): Promise<ConnectionInfo> {
    const record = await this.readForInfo()
    if (!record) throw unknownConnection(this.id)
    const lease = await this.ctx.store.getLease(refreshLeaseKey(this.id), this.ctx.now())
    return this.view(record, Boolean(lease))
  }

  /** The record, or (when its secrets cannot be opened) its listing entry marked `unreadable`. */
  private async readForInfo(): Promise<ConnectionRecord | null> {
    try {
      return await this.ctx.store.getConnection(this.id)
    } catch (error) {
      if (
        !isInnkeeperError(error) ||
        (error.code !== 'key_unavailable' && error.code !== 'decryption_failed')
      )
        throw error
      const { app } = splitConnectionId(this.id)
      const listed = await this.ctx.store.listConnections({ app })
      return listed.find((record) => record.id === this.id) ?? null
    }
  }

  /**
   * An authenticated request: `path` is appended to the API base URL (a full URL must be on the
   * provider's hosts); the provider's headers are added; a refused token is renewed once.
   */
  async fetch(path: string, init: ApiRequestInit = {}): Promise<Response> {
    return authenticatedFetch(await this.target(), path, init)
  }

  /** `fetch` that parses the JSON answer and throws a typed error on any non-2xx status. */
  async json<T = unknown>(path: string, init: ApiRequestInit = {}): Promise<T> {
    const target = await this.target()
    const response = await authenticatedFetch(target, path, init)
    const url = resolveRequestUrl(path, { ...target, params: init.params, query: init.query }).href
    return readJson<T>(response, target, (init.method ?? 'GET').toUpperCase(), url)
  }

  /**
   * Owed post-connect steps (a subscription that could not be read at install) are run again on
   * use: at most one attempt at a time, and after a failure not again for PENDING_RETRY_MS.
   */
  private async settlePending(record: CachedConnection): Promise<CachedConnection> {
    if (pendingSteps(record).length === 0 || this.ctx.now() < this.nextPendingAttempt) return record
    this.pendingRun ??= (async () => {
      try {
        await this.accessToken()
        // The whole record (the cache keeps only what token requests read).
        const latest = await this.ctx.store.getConnection(this.id)
        if (!latest) throw unknownConnection(this.id)
        const app = await this.ctx.resolveApp(latest.app)
        const outcome = await completePendingSteps(this.ctx, app, latest)
        if (outcome.movedTo) {
          this.keeper.forget(this.id)
          throw movedError(this.id, outcome.movedTo)
        }
        this.keeper.forget(this.id)
        if (pendingSteps(outcome.record).length > 0)
          this.nextPendingAttempt = this.ctx.now() + PENDING_RETRY_MS
        return outcome.record
      } finally {
        this.pendingRun = undefined
      }
    })()
    return this.pendingRun
  }

  /** Built once per committed record (headers depend on its metadata), not once per request. */
  private async target(): Promise<ApiTarget> {
    const record = await this.settlePending(await this.keeper.cachedRecord(this.id))
    if (this.lastTarget?.record === record) return this.lastTarget.target
    const app = await this.ctx.resolveApp(record.app)
    if (isApiKeyConnection(record)) {
      const target = apiKeyTarget(this.ctx, app, this.id, record.metadata, () => this.accessToken())
      this.lastTarget = { record, target }
      return target
    }
    const target: ApiTarget = {
      providerName: app.provider.displayName,
      apiUrl: app.endpoints.apiUrl,
      allowedOrigins: app.endpoints.apiOrigins,
      placeholderStyle: app.provider.api.placeholderStyle,
      headers: fillTemplates(app.provider.api.headers, { app: app.templateApp, metadata: record.metadata }),
      accessToken: () => this.accessToken(),
      renewAfterRejection: async (rejected: string) => {
        const renewed = await this.keeper.refresh(this.id, { force: true, rejectedAccessToken: rejected })
        return renewed.tokens!.accessToken!
      },
      now: this.ctx.now,
      maxRetryAfterMs: this.ctx.retry.maxRetryAfterMs,
      sleep: (ms: number) => this.ctx.sleep(ms),
      timeoutMs: this.ctx.limits.timeoutMs,
      maxResponseBytes: this.ctx.limits.maxResponseBytes,
    }
    this.lastTarget = { record, target }
    return target
  }

  private async view(
    record: Parameters<typeof toConnectionInfo>[0],
    leased = false,
  ): Promise<ConnectionInfo> {
    const app = await this.ctx.resolveApp(record.app)
    return toConnectionInfo(record, app.provider.name, this.ctx.now(), leased)
  }
}
