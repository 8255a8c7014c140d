// The library's front door: `Innkeeper.open()` opens the store and keys (embedded defaults:
// a SQLite file and a key file under INNKEEPER_HOME), and gives apps, connect flows,
// connection handles and events.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { LRUCache } from 'lru-cache'
import { runAsActor, scopedActor, workerActor } from './audit/actor.js'
import { auditRetentionDays } from './audit/retention.js'
import { AuditTrail } from './audit/trail.js'
import { connectWithApiKey } from './connections/api-key.js'
import { AppClient } from './connections/app-client.js'
import { Apps } from './connections/apps.js'
import {
  type AuthorizationResponse,
  type AuthorizationStart,
  completeAuthorization,
  completeInstallCallback,
  startAuthorization,
} from './connections/authorization-flow.js'
import {
  type ConnectOptions,
  chooseScopes,
  connectNotices,
  scopeWarnings,
} from './connections/connect-request.js'
import { Connection } from './connections/connection.js'
import { normaliseConnectionId } from './connections/connection-id.js'
import { KeeperContext, type TokenRequestObserver } from './connections/context.js'
import { isApiKeyConnection } from './connections/credential.js'
import { connectWithClientCredentials } from './connections/finish-connect.js'
import { ensureHome, resolveHome } from './connections/home.js'
import { inFlight } from './connections/in-flight.js'
import { unknownConnection } from './connections/keeper-errors.js'
import { completePendingSteps, type PendingOutcome, pendingSteps } from './connections/pending-steps.js'
import { RECOVERY_DIRECTORY, RecoveryJournal } from './connections/recovery-journal.js'
import {
  DEFAULT_RETRY,
  failureWindowFrom,
  isAccessTokenFresh,
  type RetryPolicy,
} from './connections/refresh-policy.js'
import { BackgroundRefresher, type RefresherOptions } from './connections/refresher.js'
import { TokenKeeper } from './connections/token-keeper.js'
import { toConnectionInfo } from './connections/view.js'
import { createKeyring, type Keyring } from './crypto/keyring.js'
import { InnkeeperError, StoreError } from './errors.js'
import { httpLimitsFrom } from './http/limits.js'
import { openStoreWithKeys } from './keys/open-with-keys.js'
import type { ConnectionInfo } from './model/connection.js'
import { type InnkeeperEventMap, type InnkeeperEventName, InnkeeperEvents } from './model/events.js'
import { revokeToken } from './oauth/revoke.js'
import { loadProviderFiles, prepareProviderFiles, providersDirectory } from './providers/files.js'
import type { ProviderOverride } from './providers/overrides.js'
import { defaultProviders, type ProviderCatalogue } from './providers/registry.js'
import type { ProviderDefinitionInput } from './providers/schema.js'
import { loadProviderValidation } from './providers/validation.js'
import { type SecretSealer, sealerForStore, UNSEALED } from './stores/kit/sealing.js'
import { openStore, parseStoreUrl } from './stores/open.js'
import { type ConnectionRecord, type Lease, refreshLeaseKey, type Store } from './stores/store.js'
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhooks/dispatcher.js'
import { OutboxWriter } from './webhooks/outbox-writer.js'
import { Webhooks } from './webhooks/receivers.js'

export interface InnkeeperOptions {
  /** `sqlite:PATH`, `memory:`, `postgres://…`, `redis://…`, or an opened Store. Default: INNKEEPER_STORE or `sqlite:<home>/innkeeper.db`. */
  store?: string | Store
  /**
   * With an opened `store` (other than memory): the keyring it was opened with, which also seals
   * the secrets kept beside its records (webhook signing secrets, the recovery journal).
   */
  keyring?: Keyring
  /** Default: INNKEEPER_HOME or `~/.innkeeper`. */
  home?: string
  /** `kid:base64key,…` (INNKEEPER_KEYS); otherwise a key file in the home directory. */
  keys?: string
  keyFile?: string
  /** The clock, in ms since the epoch (tests drive expiry with it). */
  now?: () => number
  retry?: Partial<RetryPolicy>
  /** How long a refresh lease lasts before another process may take over (default 60 s). */
  leaseMs?: number
  /**
   * How long a connection may fail continuously before it is marked `error` for good (no more
   * automatic retries until a manual refresh): ms, or a duration like `3d`, `12h`. Default
   * INNKEEPER_FAILURE_WINDOW or 3 days.
   */
  failureWindow?: number | string
  /**
   * Who this process is in the audit trail (`cli:<user>`, `worker:<owner>`, …); default `library`.
   * A call can name its own with `runAsActor` (the service does, with the API key's id).
   */
  actor?: string
  /** Record the audit trail in the store (default true). */
  audit?: boolean
  /**
   * Timeout of every request to a platform (API, proxy, post-connect steps; the token and
   * revocation endpoints too when set): ms or a duration like `30s`. Default
   * INNKEEPER_REQUEST_TIMEOUT or 30 s (the token endpoint: 15 s).
   */
  requestTimeoutMs?: number | string
  /**
   * Create the store (an SQLite file and its directory) and the key file when they do not exist
   * (default true). With false, a missing SQLite store is `store_not_found` and nothing is
   * written: for commands that only read.
   */
  create?: boolean
  /** Largest API answer read or streamed, bytes. Default INNKEEPER_MAX_RESPONSE_BYTES or 16 MiB. */
  maxResponseBytes?: number | string
  /**
   * Provider definitions of your own, applied after the built-ins and the files in
   * `<home>/providers`: a partial one named like an existing provider corrects only the fields
   * it gives (`{ name: 'bookyflow', postConnect: [{ name: 'channel announce', path: '/x' }] }`),
   * a new name adds a provider. See docs/platforms/README.md.
   */
  providers?: ReadonlyArray<ProviderOverride | ProviderDefinitionInput>
  /**
   * Let webhook receivers live on private, loopback, link-local or metadata addresses (refused
   * by default, at `webhooks.add` and at every delivery). Default INNKEEPER_ALLOW_PRIVATE_WEBHOOKS
   * (`1`/`true`); `serve --demo` turns it on.
   */
  allowPrivateWebhooks?: boolean
  /**
   * Connection records (with their tokens) kept in memory at most, least recently used dropped
   * first (default 10,000: about 11 MB). Only connections this process asked a token of are kept.
   */
  cachedConnections?: number
}

/** An authorization in progress: visit `url`, then `complete()` with the code or the callback query. */
export interface PendingConnect extends AuthorizationStart {
  kind: 'authorize'
  complete(response: AuthorizationResponse): Promise<ConnectionInfo>
}

/** A connection made at once (client credentials). */
export interface CompletedConnect {
  kind: 'connected'
  connection: ConnectionInfo
  /** Things the caller should know (scopes the provider does not list, sent anyway). */
  warnings: string[]
}

export class Innkeeper {
  readonly apps: Apps
  readonly events = new InnkeeperEvents()
  /** Webhook receivers (add, list, remove); events reach them through the store's outbox. */
  readonly webhooks: Webhooks
  /** Who connected, refreshed, took a token or disconnected (never a token or secret). */
  readonly audit: AuditTrail
  private readonly outboxWriter: OutboxWriter
  private readonly ctx: KeeperContext
  private readonly keeper: TokenKeeper
  private closed = false
  /** Handles of connections known to exist, most recently used last (see `connection`). */
  /** Webhook receivers may be private addresses (see InnkeeperOptions.allowPrivateWebhooks). */
  readonly allowPrivateWebhooks: boolean
  private readonly handles = new LRUCache<string, Connection>({ max: CONNECTION_HANDLES_KEPT })

  private constructor(
    readonly store: Store,
    sealer: SecretSealer,
    now: () => number,
    retry: RetryPolicy,
    leaseMs: number,
    private readonly ownsStore: boolean,
    failureWindowMs?: number,
    auditOptions: Pick<
      InnkeeperOptions,
      | 'actor'
      | 'audit'
      | 'requestTimeoutMs'
      | 'maxResponseBytes'
      | 'allowPrivateWebhooks'
      | 'cachedConnections'
      | 'home'
    > = {},
    /** The provider definitions in use: built-ins, `<home>/providers/*.json`, then `providers`. */
    readonly providers: ProviderCatalogue = defaultProviders,
  ) {
    this.allowPrivateWebhooks = auditOptions.allowPrivateWebhooks ?? privateWebhooksFromEnvironment()
    this.audit = new AuditTrail(store, now, auditOptions.actor ?? 'library', auditOptions.audit ?? true)
    this.audit.follow(this.events)
    this.ctx = new KeeperContext(
      store,
      now,
      this.events,
      retry,
      leaseMs,
      failureWindowMs,
      httpLimitsFrom(auditOptions),
      providers,
    )
    this.outboxWriter = new OutboxWriter(store, now)
    this.webhooks = new Webhooks(
      store,
      sealer,
      now,
      () => this.outboxWriter.invalidate(),
      () => this.allowPrivateWebhooks,
    )
    this.outboxWriter.attach(this.events)
    this.ctx.eventOutbox = this.outboxWriter
    // Nothing is at rest in the memory store, and its writes cannot fail: it keeps no journal.
    if (store.kind !== 'memory' && auditOptions.home)
      this.ctx.journal = new RecoveryJournal(join(auditOptions.home, RECOVERY_DIRECTORY), store.kind, sealer)
    this.keeper = new TokenKeeper(this.ctx, auditOptions.cachedConnections)
    this.apps = new Apps(this.ctx)
  }

  static async open(options: InnkeeperOptions = {}): Promise<Innkeeper> {
    const now = options.now ?? Date.now
    const retry = { ...DEFAULT_RETRY, ...options.retry }
    const leaseMs = options.leaseMs ?? 60_000
    const failureWindowMs = failureWindowFrom(options.failureWindow ?? process.env.INNKEEPER_FAILURE_WINDOW)
    httpLimitsFrom(options) // a bad timeout or size limit fails before the store is opened
    const where = resolveHome({
      ...options,
      store: typeof options.store === 'string' ? options.store : undefined,
    })
    // Checked before the store opens: a broken definition file stops here, naming file and field.
    const providers = defaultProviders.clone()
    const directory = providersDirectory(where.home)
    await prepareProviderFiles(directory)
    if ((options.providers ?? []).length > 0) await loadProviderValidation()
    loadProviderFiles(providers, directory)
    for (const [index, definition] of (options.providers ?? []).entries()) {
      providers.apply(definition, `providers[${index}] (${String(definition.name)})`)
    }
    if (options.store && typeof options.store !== 'string') {
      return Innkeeper.recovered(
        new Innkeeper(
          options.store,
          sealerForStore(options.store.kind, options.keyring),
          now,
          retry,
          leaseMs,
          false,
          failureWindowMs,
          { ...options, home: where.home },
          providers,
        ),
      )
    }
    const inMemory = where.storeUrl.startsWith('memory:') && !where.keys
    if (options.create === false && missingSqliteStore(where.storeUrl)) {
      // A store named explicitly must exist; the default one before its first use reads as empty.
      if (options.store !== undefined || process.env.INNKEEPER_STORE !== undefined)
        throw storeNotFound(where.storeUrl)
      const empty = await openStore('memory:', { keyring: ephemeralKeyring() })
      return new Innkeeper(empty, UNSEALED, now, retry, leaseMs, true, failureWindowMs, options, providers)
    }
    if (!inMemory && (!where.keys || where.storeUrl.startsWith(`sqlite:${where.home}`)))
      ensureHome(where.home)
    // A key file is created only for a store that holds no sealed data yet.
    const { store, keyring } = inMemory
      ? { store: await openStore(where.storeUrl, { keyring: ephemeralKeyring() }), keyring: undefined }
      : await openStoreWithKeys(where.storeUrl, { keys: where.keys, keyFile: where.keyFile })
    return Innkeeper.recovered(
      new Innkeeper(
        store,
        sealerForStore(store.kind, keyring),
        now,
        retry,
        leaseMs,
        true,
        failureWindowMs,
        { ...options, home: where.home },
        providers,
      ),
    )
  }

  /**
   * Replays the recovery journal (token sets a refresh could not commit, see
   * `recovery-journal.ts`) into the just-opened store; entries that cannot go in yet stay.
   */
  private static async recovered(innkeeper: Innkeeper): Promise<Innkeeper> {
    await innkeeper.keeper.recoverJournal()
    return innkeeper
  }

  /**
   * Token sets a refresh could not commit and kept in `<home>/recovery` (see
   * docs/operations.md): `pending` ones go into the store on the next use once it accepts
   * writes; `other` ones belong to another store or key, or to a grant since replaced.
   */
  recoveryJournal(): Array<{
    path: string
    connection: string
    createdAt: number
    status: 'pending' | 'other'
  }> {
    return this.keeper.journalEntries().map(({ path, connection, createdAt, status }) => ({
      path,
      connection,
      createdAt,
      status,
    }))
  }

  /**
   * Starts connecting an app: an authorization URL to visit, or (client credentials, or an
   * `apiKey` where the provider offers API keys) the connection itself.
   */
  async connect(app: string, options: ConnectOptions = {}): Promise<PendingConnect | CompletedConnect> {
    const resolved = await this.ctx.resolveApp(app)
    if (options.apiKey !== undefined) {
      const record = await connectWithApiKey(this.ctx, app, { apiKey: options.apiKey, name: options.name })
      this.keeper.remember(record)
      return {
        kind: 'connected',
        connection: toConnectionInfo(record, resolved.provider.name, this.ctx.now()),
        warnings: [],
      }
    }
    const grant = options.grant ?? resolved.provider.connect
    if (grant === 'client_credentials') {
      const record = await connectWithClientCredentials(this.ctx, app, options)
      this.keeper.forget(record.id)
      const asked = chooseScopes(resolved, options.scopes ?? resolved.provider.scopes.forClientCredentials)
      return {
        kind: 'connected',
        connection: toConnectionInfo(record, resolved.provider.name, this.ctx.now()),
        // Said once here, on connecting, never on a refresh (bookingtime's prototype warning).
        warnings: [...connectNotices(resolved.provider, grant), ...scopeWarnings(resolved.provider, asked)],
      }
    }
    return this.authorize(app, options)
  }

  /** The authorization-code flow's first step, always. */
  async authorize(app: string, options: ConnectOptions = {}): Promise<PendingConnect> {
    const start = await startAuthorization(this.ctx, app, options)
    return {
      kind: 'authorize',
      ...start,
      complete: (response) => this.completeAuthorization(response, start.state),
    }
  }

  /**
   * Completes an authorization from a callback (its URL, query or `{ code, state }`); the state
   * must match a pending authorization (single use, 10 minutes).
   */
  async completeAuthorization(
    response: AuthorizationResponse,
    expectedState?: string,
    /** `replace: false` refuses (`conflict`) to replace an existing connection of the same name. */
    options: { replace?: boolean } = {},
  ): Promise<ConnectionInfo> {
    const record = await inFlight(() =>
      completeAuthorization(this.ctx, response, expectedState, undefined, options),
    )
    this.keeper.forget(record.id)
    const app = await this.ctx.resolveApp(record.app)
    return toConnectionInfo(record, app.provider.name, this.ctx.now())
  }

  /**
   * Completes a callback for `app` that may carry no state: an install started in the platform's
   * app store (Booking Experts). With a state it is an ordinary `completeAuthorization`.
   */
  async completeInstallCallback(
    app: string,
    response: AuthorizationResponse,
    options: { name?: string } = {},
  ): Promise<ConnectionInfo> {
    const record = await completeInstallCallback(this.ctx, app, response, options)
    this.keeper.forget(record.id)
    const resolved = await this.ctx.resolveApp(record.app)
    return toConnectionInfo(record, resolved.provider.name, this.ctx.now())
  }

  /** Completes the app's newest pending authorization with a pasted code (`innkeeper connect --code`). */
  async completePendingAuthorization(app: string, code: string): Promise<ConnectionInfo> {
    const pending = await this.store.latestPendingAuthorization(app, this.ctx.now())
    if (!pending) {
      throw new InnkeeperError(
        'invalid_state',
        `No authorization of ${app} is waiting for a code (they last 10 minutes). Run \`innkeeper connect ${app}\` again.`,
      )
    }
    return this.completeAuthorization({ code: code.trim(), state: pending.state })
  }

  /**
   * Unauthenticated requests to an app's API, with no connection needed: the platform's
   * auth-free endpoints (`keeper.app('bf').json('/status')`). Never sends a token.
   */
  app(name: string): AppClient {
    return new AppClient(name, this.ctx)
  }

  /** A handle for `<app>/<name>` (name defaults to `main`). */
  connection(id: string): Connection {
    const normalised = normaliseConnectionId(id)
    // One handle per connection, so services that look a connection up per request reuse it. Only
    // connections this process has seen in the store are kept (a caller trying unknown ids must
    // not grow memory), at most CONNECTION_HANDLES_KEPT of them, and none after a disconnect.
    const cached = this.handles.get(normalised)
    if (cached) return cached
    const handle = new Connection(normalised, this.ctx, this.keeper, this.audit)
    if (this.keeper.knows(normalised)) this.handles.set(normalised, handle)
    return handle
  }

  /**
   * How many connection records (with their tokens) this process keeps in memory: at most
   * TOKEN_CACHE_KEPT, and none for connections only the background refresher touched.
   */
  get cachedConnectionRecords(): number {
    return this.keeper.cachedRecords
  }

  /** How many connection handles this process keeps for reuse (bounded; for monitoring and tests). */
  get cachedConnectionHandles(): number {
    return this.handles.size
  }

  async connections(filter: { app?: string } = {}): Promise<ConnectionInfo[]> {
    const records = await this.store.listConnections(filter)
    const now = this.ctx.now()
    return Promise.all(
      records.map(async (record) => {
        const [app, lease] = await Promise.all([
          this.ctx.resolveApp(record.app).catch(() => undefined),
          this.store.getLease(refreshLeaseKey(record.id), now),
        ])
        return toConnectionInfo(record, app?.provider.name ?? 'unknown', now, Boolean(lease))
      }),
    )
  }

  /**
   * Revokes the grant where the app has a revocation endpoint (RFC 7009), then deletes the
   * connection: its tokens are gone from the store. Without an endpoint the grant stays valid on
   * the platform (`revocationEndpoint: false`); the provider's `ownerRevocation` says who ends it.
   */
  async disconnect(
    id: string,
  ): Promise<{ revoked: boolean; revocationEndpoint: boolean; revocationError?: string }> {
    const connectionIdValue = normaliseConnectionId(id)
    const record = await this.store.getConnection(connectionIdValue)
    if (!record) throw unknownConnection(connectionIdValue)
    const app = await this.ctx.resolveApp(record.app)
    let revoked = false
    let revocationError: string | undefined
    const token = record.tokens?.refreshToken ?? record.tokens?.accessToken
    // An API key is not an OAuth grant: it is forgotten here and revoked on the platform only.
    if (app.endpoints.revokeUrl && token && !isApiKeyConnection(record)) {
      try {
        await revokeToken({
          provider: app.provider,
          revokeUrl: app.endpoints.revokeUrl,
          clientId: app.record.clientId,
          clientSecret: app.record.clientSecret,
          token,
          tokenTypeHint: record.tokens?.refreshToken ? 'refresh_token' : 'access_token',
          timeoutMs: app.limits.configured ? app.limits.timeoutMs : undefined,
        })
        revoked = true
      } catch (error) {
        revocationError = error instanceof Error ? error.message : 'revocation failed'
      }
    }
    // Its `connection.revoked` / `connection.deleted` webhook events are written with the delete.
    await this.ctx.deleteWithEvents(record, revoked, app.provider.name)
    this.keeper.forget(connectionIdValue)
    this.handles.delete(connectionIdValue)
    this.events.emit(
      'disconnected',
      toConnectionInfo({ ...record, state: 'revoked' }, app.provider.name, this.ctx.now()),
      { revoked },
    )
    // An API key is revoked on the platform only: no endpoint here can do it.
    const revocationEndpoint = Boolean(app.endpoints.revokeUrl) && !isApiKeyConnection(record)
    return revocationError
      ? { revoked, revocationEndpoint, revocationError }
      : { revoked, revocationEndpoint }
  }

  on<K extends InnkeeperEventName>(event: K, listener: (...args: InnkeeperEventMap[K]) => void): this {
    this.events.on(event, listener as never)
    return this
  }

  off<K extends InnkeeperEventName>(event: K, listener: (...args: InnkeeperEventMap[K]) => void): this {
    this.events.off(event, listener as never)
    return this
  }

  /** For the background refresher: refreshes a claimed connection under the lease it holds. */
  async refreshClaimed(id: string, lease: Lease): Promise<ConnectionInfo> {
    return runAsActor(scopedActor() ?? workerActor(this.ctx.owner), async () => {
      // Owed post-connect steps (a subscription that could not be read) are run again first,
      // with the current token while it is fresh, else after renewing it.
      const stored = await this.store.getConnection(id)
      if (stored && pendingSteps(stored).length > 0 && isAccessTokenFresh(stored.tokens, this.ctx.now())) {
        const outcome = await this.completePending(stored)
        if (outcome.movedTo) return this.info(outcome.record)
      }
      let record = await this.keeper.refresh(id, { ifDue: true, lease })
      if (pendingSteps(record).length > 0 && isAccessTokenFresh(record.tokens, this.ctx.now())) {
        record = (await this.completePending(record)).record
      }
      return this.info(record)
    })
  }

  /** For the background refresher: tells `unreadable` listeners of a claimed record it skipped. */
  async unreadableClaimed(record: ConnectionRecord): Promise<void> {
    const app = await this.ctx.resolveApp(record.app).catch(() => undefined)
    if (!record.unreadable) return
    const info = toConnectionInfo(record, app?.provider.name ?? 'unknown', this.ctx.now())
    this.events.emit('unreadable', info, { ...record.unreadable })
  }

  private async completePending(record: ConnectionRecord): Promise<PendingOutcome> {
    const app = await this.ctx.resolveApp(record.app)
    const outcome = await completePendingSteps(this.ctx, app, record)
    if (outcome.movedTo) this.keeper.forget(record.id)
    this.keeper.forget(outcome.record.id)
    return outcome
  }

  private async info(record: ConnectionRecord): Promise<ConnectionInfo> {
    const app = await this.ctx.resolveApp(record.app)
    return toConnectionInfo(record, app.provider.name, this.ctx.now())
  }

  /** Starts keeping every connection fresh in the background (see BackgroundRefresher). */
  startRefresher(options: RefresherOptions = {}): BackgroundRefresher {
    const refresher = this.refresher(options)
    refresher.start()
    // Workers also keep the audit trail within its retention (INNKEEPER_AUDIT_RETENTION_DAYS).
    this.audit.startRetention(auditRetentionDays())
    return refresher
  }

  /** A background refresher, not started (`start()`, or `runOnce()` for one round). */
  refresher(options: RefresherOptions = {}): BackgroundRefresher {
    return new BackgroundRefresher(this, this.store, this.ctx.owner, options, (app) =>
      this.appConcurrencyCap(app),
    )
  }

  /** An app's `maxConcurrency` setting (refreshes at once at most), once its record was read. */
  private appConcurrencyCap(app: string): number | undefined {
    const value = Number(this.ctx.cachedApp(app)?.record.settings.maxConcurrency)
    return Number.isInteger(value) && value > 0 ? value : undefined
  }

  /** Hears how every token request of a refresh went (answer latency, or a push-back). */
  observeTokenRequests(observer: TokenRequestObserver): () => void {
    this.ctx.tokenRequestObservers.add(observer)
    return () => this.ctx.tokenRequestObservers.delete(observer)
  }

  /** Starts delivering webhooks from the store's outbox (see WebhookDispatcher). */
  startWebhookDispatcher(options: WebhookDispatcherOptions = {}): WebhookDispatcher {
    return new WebhookDispatcher(this.store, this.webhooks, this.ctx.now, {
      allowPrivateAddresses: this.allowPrivateWebhooks,
      ...options,
    }).start()
  }

  get now(): () => number {
    return this.ctx.now
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.outboxWriter.flush()
    await this.audit.flush()
    await this.keeper.close()
    this.events.removeAllListeners()
    if (this.ownsStore) await this.store.close()
  }
}

/** Nothing is at rest in memory: a key that lives as long as the process is enough there. */
function ephemeralKeyring(): Keyring {
  return createKeyring([{ id: 'memory', key: randomBytes(32) }])
}

function privateWebhooksFromEnvironment(): boolean {
  return /^(1|true|yes)$/i.test(process.env.INNKEEPER_ALLOW_PRIVATE_WEBHOOKS ?? '')
}

/** Connection handles kept for reuse; beyond this the least recently used is dropped. */
export const CONNECTION_HANDLES_KEPT = 10_000

/** The path of an SQLite store that does not exist yet; undefined for any other store. */
function missingSqliteStore(storeUrl: string): string | undefined {
  const location = parseStoreUrl(storeUrl)
  return location.kind === 'sqlite' && !existsSync(location.path) ? location.path : undefined
}

function storeNotFound(storeUrl: string): StoreError {
  const path = missingSqliteStore(storeUrl)
  return new StoreError(
    'store_not_found',
    `There is no store at ${path}. Check --store (or INNKEEPER_STORE); a command that writes, such as \`innkeeper apps add\`, creates it.`,
    { details: { path } },
  )
}
