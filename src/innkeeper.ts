// The library's front door: `Innkeeper.open()` opens the store and keys (embedded defaults:
// a SQLite file and a key file under INNKEEPER_HOME, see facade/open.ts), and gives apps, connect
// flows, connection handles and events. It starts only what the caller uses: the webhook outbox
// writer on the first connection change, a dispatcher or refresher when asked for one.
import { join } from 'node:path'
import { runAsActor, scopedActor, workerActor } from './audit/actor.js'
import { auditRetentionDays } from './audit/retention.js'
import { AuditTrail } from './audit/trail.js'
import { connectWithApiKey } from './connections/api-key.js'
import { AppClient } from './connections/app-client.js'
import { Apps } from './connections/apps.js'
import {
  type AuthorizationResponse,
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
import { ConnectSessionSweep } from './connections/connect-session-sweep.js'
import { Connection } from './connections/connection.js'
import { normaliseConnectionId } from './connections/connection-id.js'
import { KeeperContext, type TokenRequestObserver } from './connections/context.js'
import { connectWithClientCredentials } from './connections/finish-connect.js'
import { inFlight } from './connections/in-flight.js'
import { unknownConnection } from './connections/keeper-errors.js'
import { LazyLru } from './connections/lazy-lru.js'
import { completePendingSteps, type PendingOutcome, pendingSteps } from './connections/pending-steps.js'
import { RECOVERY_DIRECTORY, RecoveryJournal } from './connections/recovery-journal.js'
import { isAccessTokenFresh } from './connections/refresh-policy.js'
import { BackgroundRefresher, type RefresherOptions } from './connections/refresher.js'
import { TokenKeeper } from './connections/token-keeper.js'
import { toConnectionInfo } from './connections/view.js'
import { InnkeeperError } from './errors.js'
import { type KeeperTiming, openKeeperStore, timingFrom } from './facade/open.js'
import type { CompletedConnect, InnkeeperOptions, PendingConnect } from './facade/options.js'
import { revokeGrant } from './facade/revoke-grant.js'
import { type WebhookActivity, WebhookWiring } from './facade/webhooks.js'
import { httpLimitsFrom } from './http/limits.js'
import type { ConnectionInfo } from './model/connection.js'
import { type InnkeeperEventMap, type InnkeeperEventName, InnkeeperEvents } from './model/events.js'
import type { ProviderCatalogue } from './providers/registry.js'
import type { SecretSealer } from './stores/kit/sealing.js'
import { type ConnectionRecord, type Lease, refreshLeaseKey, type Store } from './stores/store.js'
import type { WebhookDispatcher, WebhookDispatcherOptions } from './webhooks/dispatcher.js'
import type { Webhooks } from './webhooks/receivers.js'

export type { CompletedConnect, InnkeeperOptions, PendingConnect } from './facade/options.js'

export class Innkeeper {
  readonly apps: Apps
  readonly events = new InnkeeperEvents()
  /** Who connected, refreshed, took a token or disconnected (never a token or secret). */
  readonly audit: AuditTrail
  /** Deletes connect sessions a day past their expiry: workers and `serve` start it, hourly. */
  readonly connectSessionSweep: ConnectSessionSweep
  /** Webhook receivers may be private addresses (see InnkeeperOptions.allowPrivateWebhooks). */
  readonly allowPrivateWebhooks: boolean
  private readonly wiring: WebhookWiring
  private readonly ctx: KeeperContext
  private readonly keeper: TokenKeeper
  private closed = false
  /** Handles of connections known to exist, most recently used last (see `connection`). */
  private readonly handles = new LazyLru<string, Connection>(CONNECTION_HANDLES_KEPT)

  private constructor(
    readonly store: Store,
    sealer: SecretSealer,
    private readonly ownsStore: boolean,
    timing: KeeperTiming,
    options: InnkeeperOptions & { home: string | undefined },
    /** The provider definitions in use: built-ins, `<home>/providers/*.json`, then `providers`. */
    readonly providers: ProviderCatalogue,
  ) {
    const { now } = timing
    this.allowPrivateWebhooks = options.allowPrivateWebhooks ?? privateWebhooksFromEnvironment()
    this.audit = new AuditTrail(store, now, options.actor ?? 'library', options.audit ?? true)
    this.audit.follow(this.events)
    this.connectSessionSweep = new ConnectSessionSweep(store, now)
    this.ctx = new KeeperContext(
      store,
      now,
      this.events,
      timing.retry,
      timing.leaseMs,
      timing.failureWindowMs,
      httpLimitsFrom(options),
      providers,
    )
    this.wiring = new WebhookWiring(store, sealer, now, this.events, () => this.allowPrivateWebhooks)
    this.ctx.eventOutbox = this.wiring
    // Nothing is at rest in the memory store, and its writes cannot fail: it keeps no journal.
    if (store.kind !== 'memory' && options.home)
      this.ctx.journal = new RecoveryJournal(join(options.home, RECOVERY_DIRECTORY), store.kind, sealer)
    this.keeper = new TokenKeeper(this.ctx, options.cachedConnections)
    this.apps = new Apps(this.ctx)
  }

  static async open(options: InnkeeperOptions = {}): Promise<Innkeeper> {
    const timing = timingFrom(options)
    const opened = await openKeeperStore(options)
    const innkeeper = new Innkeeper(
      opened.store,
      opened.sealer,
      opened.ownsStore,
      timing,
      { ...options, home: opened.home },
      opened.providers,
    )
    // Token sets a refresh could not commit (see `recovery-journal.ts`) go into the just-opened
    // store; entries that cannot go in yet stay.
    if (opened.home !== undefined) await innkeeper.keeper.recoverJournal()
    return innkeeper
  }

  /** Webhook receivers (add, list, remove); events reach them through the store's outbox. */
  get webhooks(): Webhooks {
    return this.wiring.webhooks
  }

  /** What of the webhook machinery this process runs: the outbox writer, dispatchers. */
  get webhookActivity(): WebhookActivity {
    return this.wiring.activity
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
      const record = await connectWithApiKey(this.ctx, app, {
        apiKey: options.apiKey,
        name: options.name,
        replace: options.replace,
      })
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
    const handle = new Connection(normalised, this.ctx, this.keeper)
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
    // An API key is not an OAuth grant: it is forgotten here and revoked on the platform only.
    const { revoked, ...outcome } = await revokeGrant(app, record)
    // Its `connection.revoked` / `connection.deleted` webhook events are written with the delete.
    await this.ctx.deleteWithEvents(record, revoked, app.provider.name)
    this.keeper.forget(connectionIdValue)
    this.handles.delete(connectionIdValue)
    this.events.emit(
      'disconnected',
      toConnectionInfo({ ...record, state: 'revoked' }, app.provider.name, this.ctx.now()),
      { revoked },
    )
    return { revoked, ...outcome }
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
    // Workers also keep the audit trail within its retention and delete expired connect sessions.
    this.audit.startRetention(auditRetentionDays())
    this.connectSessionSweep.start()
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
    return this.wiring.startDispatcher(options)
  }

  get now(): () => number {
    return this.ctx.now
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.wiring.flush()
    await this.audit.flush()
    await this.connectSessionSweep.stop()
    await this.keeper.close()
    this.events.removeAllListeners()
    if (this.ownsStore) await this.store.close()
  }
}

function privateWebhooksFromEnvironment(): boolean {
  return /^(1|true|yes)$/i.test(process.env.INNKEEPER_ALLOW_PRIVATE_WEBHOOKS ?? '')
}

/** Connection handles kept for reuse; beyond this the least recently used is dropped. */
export const CONNECTION_HANDLES_KEPT = 10_000
