// Hands out valid access tokens and refreshes them safely:
// - in this process, concurrent callers of one connection share a single refresh (single-flight);
// - across processes, a lease on `refresh:<id>` in the store lets one refresher act at a time,
//   and whoever finds the token already renewed by someone else uses theirs;
// - the new token set is committed to the store before anyone gets the new access token, and
//   the rotated-out refresh token is kept beside it until the new one has worked.
// Records are cached only while the store's changes feed is live: a change anywhere (a
// disconnect, a revoke, a reauthorization, another process's refresh) drops the cached record,
// so no process keeps handing out a token another one has disconnected.
// Memory stays bounded however many connections pass through: the cache keeps the
// TOKEN_CACHE_KEPT most recently used records, a refresh under a claimed lease (the background
// refresher) only updates a record someone here already asked for, and the changes heard are
// remembered for the most recent TOKEN_CACHE_KEPT connections only.
// A rotated refresh token is never dropped on a store failure: the commit is retried while the
// refresh lease is held, then the token set is sealed into the recovery journal
// (`recovery-journal.ts`) and replayed into the store before the connection is next used here.
import { InnkeeperError, isTransient, NeedsReauthError, StoreError, TokenEndpointError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { ProviderDefinition } from '../providers/schema.js'
import { scrubTokenLike } from '../redact.js'
import { ANY_CONNECTION, type ChangesSubscription } from '../stores/changes.js'
import { type ConnectionRecord, type Lease, refreshLeaseKey } from '../stores/store.js'
import { crashPointAfterCommit, type KeeperContext, type ResolvedApp, type WrittenEvent } from './context.js'
import { isApiKeyConnection } from './credential.js'
import { inFlight } from './in-flight.js'
import { LruMap } from './lru.js'
import { rerunStepsForNewToken } from './post-connect.js'
import { reconnectCommand } from './reconnect.js'
import type { JournalEntry } from './recovery-journal.js'
import { type RenewResult, renewTokens } from './renew.js'
import { accessTokenDueAt, isAccessTokenFresh, isAccessTokenUsable, nextRefreshDue } from './timing.js'
import { toConnectionInfo } from './view.js'

export interface RefreshOptions {
  /** Refresh even if the stored token looks fresh (unless someone else already replaced `rejectedAccessToken`). */
  force?: boolean
  /** The access token the provider just refused: any other fresh token in the store is good. */
  rejectedAccessToken?: string
  /** A lease already held on `refresh:<id>` (the background refresher claims before refreshing). */
  lease?: Lease
  /** Refresh only if the connection is still due (`refreshDueAt` reached): the background refresher's rule. */
  ifDue?: boolean
  /** The record as the caller just read it from the store. */
  known?: ConnectionRecord
}

const WAIT_MIN_MS = 20
const WAIT_MAX_MS = 100
/** Pauses between attempts to commit a rotated token set to a store that refuses writes. */
const COMMIT_RETRY_MIN_MS = 100
const COMMIT_RETRY_MAX_MS = 2_000
/** Errors thrown after the token set was journaled: reported as they are, never retried as a renewal. */
const journaled = new WeakSet<object>()

/** Connection records one process keeps in memory at most (least recently used dropped first). */
export const TOKEN_CACHE_KEPT = 10_000

export class TokenKeeper {
  private readonly inflight = new Map<string, Promise<ConnectionRecord>>()
  /** The last committed record per connection, and until when its access token counts as fresh. */
  private readonly cache: LruMap<string, { record: ConnectionRecord; freshUntil: number }>
  /** Store reads in progress per connection: a herd of callers shares one read, not one each. */
  private readonly loading = new Map<string, Promise<{ record: ConnectionRecord | null; stamp: number }>>()
  /**
   * Changes heard, numbered: the number of the last change per connection (oldest first, at most
   * `cacheSize` of them), so a read that raced a change is not cached. A connection whose entry
   * was dropped counts as changed at `forgottenUpTo`; `*` counts as a change of every one.
   */
  private readonly lastChange = new Map<string, number>()
  private changes = 0
  private forgottenUpTo = 0
  private everythingChangedAt = 0
  /** Callers waiting for another process's refresh of a connection, woken by its change. */
  private readonly changeWaiters = new Map<string, Set<() => void>>()
  /** Connections being refreshed under a lease the caller claimed (the background refresher). */
  private readonly claimed = new Set<string>()
  /** Journal entries judged not to belong to this store (another keyring, another grant): not reopened. */
  private readonly stale = new Set<string>()
  /** Replays of entries this process journaled, retried in the background until the store takes them. */
  private readonly replayTimers = new Map<string, NodeJS.Timeout>()
  private watching: Promise<void> | undefined
  private subscription: ChangesSubscription | undefined
  private closed = false

  constructor(
    private readonly ctx: KeeperContext,
    private readonly cacheSize: number = TOKEN_CACHE_KEPT,
  ) {
    this.cache = new LruMap(cacheSize)
  }

  /** How many connection records this process holds in memory (bounded by `cacheSize`). */
  get cachedRecords(): number {
    return this.cache.size
  }

  /** The cached token set while it is fresh, without touching the store: the hot path. */
  freshCached(id: string): (TokenSet & { accessToken: string }) | undefined {
    const cached = this.subscription?.live ? this.cache.get(id) : undefined
    return cached && this.ctx.now() < cached.freshUntil
      ? (cached.record.tokens as TokenSet & { accessToken: string })
      : undefined
  }

  /** A valid access token: cached while fresh, otherwise renewed (once, however many callers). */
  async accessToken(id: string): Promise<TokenSet & { accessToken: string }> {
    const cached = this.freshCached(id)
    if (cached) return cached
    const stored = await this.load(id)
    if (!stored) throw unknownConnection(id)
    if (stored.state === 'active' && isAccessTokenFresh(stored.tokens, this.ctx.now())) return stored.tokens
    const record = await this.refresh(id, { known: stored })
    return record.tokens as TokenSet & { accessToken: string }
  }

  /** The record as last seen by this process (loaded once), for headers and metadata. */
  async cachedRecord(id: string): Promise<ConnectionRecord> {
    const cached = this.subscription?.live ? this.cache.get(id) : undefined
    if (cached) return cached.record
    const stored = await this.load(id)
    if (!stored) throw unknownConnection(id)
    return stored
  }

  /** One store read per connection at a time; concurrent callers join it. Caches what it read. */
  private async load(id: string): Promise<ConnectionRecord | null> {
    await this.watch()
    await this.recover(id)
    let running = this.loading.get(id)
    if (!running) {
      const stamp = this.stamp(id)
      const promise = this.ctx.store
        .getConnection(id)
        .then((record) => ({ record, stamp }))
        .finally(() => {
          if (this.loading.get(id) === promise) this.loading.delete(id)
        })
      this.loading.set(id, promise)
      running = promise
    }
    const { record, stamp } = await running
    if (record) this.remember(record, stamp)
    return record
  }

  /**
   * Follows the store's changes feed (from the first read on): a change drops the cached record.
   * Without a feed (it failed to start) nothing is cached: every call reads the store.
   */
  private watch(): Promise<void> {
    this.watching ??= this.ctx.store
      .watchChanges(({ connection }) => connection !== undefined && this.changed(connection))
      .then(
        async (subscription) => {
          if (this.closed) await subscription.close()
          else this.subscription = subscription
        },
        () => undefined,
      )
    return this.watching
  }

  private changed(id: string): void {
    this.changes += 1
    this.wakeWaiters(id)
    if (id === ANY_CONNECTION) {
      this.everythingChangedAt = this.changes
      this.lastChange.clear()
      this.cache.clear()
      this.loading.clear()
      return
    }
    this.lastChange.delete(id)
    this.lastChange.set(id, this.changes)
    if (this.lastChange.size > this.cacheSize) {
      const [oldest, at] = this.lastChange.entries().next().value as [string, number]
      this.lastChange.delete(oldest)
      this.forgottenUpTo = at
    }
    this.cache.delete(id)
    this.loading.delete(id)
  }

  /** The number of changes heard so far: what a read starting now is compared against. */
  private stamp(_id: string): number {
    return this.changes
  }

  /** Whether a change of `id` may have been heard since `stamp`. */
  private changedSince(id: string, stamp: number): boolean {
    if (this.everythingChangedAt > stamp) return true
    const last = this.lastChange.get(id) ?? this.forgottenUpTo
    return last > stamp
  }

  /**
   * Caches a record read or written at `stamp` (see `stamp`), unless a change was heard since:
   * then the record may already be out of date, and the next caller reads the store again.
   * A connection refreshed under a claimed lease is only updated if it is cached already: the
   * background refresher must not fill memory with connections nobody here asked for.
   */
  remember(record: ConnectionRecord, stamp?: number): void {
    if (stamp !== undefined && this.changedSince(record.id, stamp)) return
    if (this.claimed.has(record.id) && !this.cache.has(record.id)) return
    const tokens = record.tokens
    const freshUntil = tokens?.accessToken
      ? (accessTokenDueAt(tokens) ?? Number.POSITIVE_INFINITY)
      : Number.NEGATIVE_INFINITY
    this.cache.set(record.id, { record, freshUntil })
  }

  forget(id: string): void {
    this.cache.delete(id)
  }

  /** Whether this process holds a record of the connection (it exists, as far as it knows). */
  knows(id: string): boolean {
    return this.cache.has(id)
  }

  /** Stops following the changes feed. */
  async close(): Promise<void> {
    this.closed = true
    this.cache.clear()
    for (const timer of this.replayTimers.values()) clearTimeout(timer)
    this.replayTimers.clear()
    await this.watching
    await this.subscription?.close()
    this.subscription = undefined
  }

  /** Single-flight entry point: concurrent callers share one refresh of the connection. */
  refresh(id: string, options: RefreshOptions = {}): Promise<ConnectionRecord> {
    const running = this.inflight.get(id)
    if (running && !options.lease) return running
    if (options.lease) this.claimed.add(id)
    const promise = this.refreshAcrossProcesses(id, options).finally(() => {
      if (this.inflight.get(id) === promise) this.inflight.delete(id)
      if (options.lease) this.claimed.delete(id)
    })
    if (!options.lease) this.inflight.set(id, promise)
    return promise
  }

  private async refreshAcrossProcesses(id: string, options: RefreshOptions): Promise<ConnectionRecord> {
    const { store } = this.ctx
    let wait = WAIT_MIN_MS
    let seenVersion: number | undefined
    const deadline = this.ctx.now() + this.ctx.leaseMs * 2
    // A token set journaled on this machine goes into the store before anything else is decided.
    if (options.lease) await this.replayJournal(id)
    else if (await this.recover(id)) options = { ...options, known: undefined }
    // A record the caller read a moment ago saves the first look (the look under the lease stays).
    let known = options.known
    for (;;) {
      const stamp = this.stamp(id)
      const record = known ?? (await store.getConnection(id))
      known = undefined
      if (!record) throw unknownConnection(id)
      this.remember(record, stamp)
      if (isGrantLost(record)) throw await this.grantLost(record)
      const done = this.alreadyRenewed(record, options, seenVersion)
      if (done) return done
      seenVersion ??= record.version

      const lease =
        options.lease ??
        (await store.acquireLease(refreshLeaseKey(id), this.ctx.owner, this.ctx.leaseMs, this.ctx.now()))
      if (lease) {
        // Counted in flight until the lease is released: a CLI interrupted now waits for the
        // new tokens to be saved (and the lease freed) before it exits.
        const seen = seenVersion
        return await inFlight(async () => {
          try {
            return await this.refreshHoldingLease(id, lease, options, seen)
          } finally {
            if (!options.lease) await store.releaseLease(lease).catch(() => false)
          }
        })
      }
      // Someone else is refreshing: wait for their commit (or their lease to lapse), then look again.
      if (this.ctx.now() > deadline) {
        throw new InnkeeperError(
          'lock_timeout',
          `Another process has been refreshing ${id} for too long. Try again; if it persists, check the workers sharing this store.`,
        )
      }
      await this.waitForChange(id, stamp, wait)
      wait = Math.min(WAIT_MAX_MS, wait * 2)
    }
  }

  /**
   * Waits up to `ms` for another process's commit on `id`: the changes feed wakes the waiter the
   * moment it arrives (PostgreSQL NOTIFY, Redis PUBLISH; SQLite's feed polls), the timer stays
   * as the fallback (a lease that lapses sends no change). Returns at once if a change of `id`
   * was heard since `stamp`, the moment its record was read.
   */
  private async waitForChange(id: string, stamp: number, ms: number): Promise<void> {
    await this.watch()
    if (!this.subscription?.live) return this.ctx.sleep(ms)
    if (this.changedSince(id, stamp)) return
    await new Promise<void>((resolve) => {
      let waiters = this.changeWaiters.get(id)
      if (!waiters) {
        waiters = new Set()
        this.changeWaiters.set(id, waiters)
      }
      const set = waiters
      const done = () => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0 && this.changeWaiters.get(id) === set) this.changeWaiters.delete(id)
        resolve()
      }
      const timer = setTimeout(done, ms)
      set.add(done)
    })
  }

  private wakeWaiters(id: string): void {
    const sets = id === ANY_CONNECTION ? [...this.changeWaiters.values()] : [this.changeWaiters.get(id)]
    for (const set of sets) for (const wake of [...(set ?? [])]) wake()
  }

  /** The error for a connection whose grant is gone, naming the command that connects it again. */
  private async grantLost(record: ConnectionRecord): Promise<NeedsReauthError> {
    const app = await this.ctx.resolveApp(record.app).catch(() => undefined)
    return needsReauth(record, undefined, app?.provider)
  }

  /** A record that already satisfies the request (fresh, or replaced since we last looked), or undefined. */
  private alreadyRenewed(
    record: ConnectionRecord,
    options: RefreshOptions,
    seenVersion?: number,
  ): ConnectionRecord | undefined {
    // An API key never expires and has nothing to renew it with: it is always what it is.
    if (isApiKeyConnection(record)) return record
    const now = this.ctx.now()
    if (isGivenUp(record) && !options.force) {
      if (isAccessTokenUsable(record.tokens, now)) return record
      throw givenUp(record)
    }
    if (options.ifDue)
      return record.refreshDueAt === undefined || record.refreshDueAt > now ? record : undefined
    if (!isAccessTokenFresh(record.tokens, now)) return undefined
    if (!options.force) return record
    if (options.rejectedAccessToken && record.tokens.accessToken !== options.rejectedAccessToken)
      return record
    if (seenVersion !== undefined && record.version !== seenVersion && record.lastRefreshAt !== undefined)
      return record
    return undefined
  }

  private async refreshHoldingLease(
    id: string,
    lease: Lease,
    options: RefreshOptions,
    seenVersion: number,
  ): Promise<ConnectionRecord> {
    const margin = Math.min(5_000, this.ctx.leaseMs / 4)
    const held = { until: this.ctx.now() + this.ctx.leaseMs - margin, margin }
    // Under the lease: a journal another process on this machine wrote since goes in first.
    await this.replayJournal(id)
    // Read again under the lease: the previous holder may have committed just before releasing.
    let record = await this.ctx.store.getConnection(id)
    if (!record) throw unknownConnection(id)
    if (isGrantLost(record)) throw await this.grantLost(record)
    const done = this.alreadyRenewed(record, options, seenVersion)
    if (done) return done
    const app = await this.ctx.resolveApp(record.app)

    let attempt = 0
    for (;;) {
      attempt += 1
      try {
        const renewed = await this.renewObserved(app, record)
        const stamp = this.stamp(id)
        record = await this.commitDurably(record, app, renewed, lease, held)
        // Committed first (a rotated refresh token must never be lost), then the steps the
        // provider repeats for every token; if they fail, the renewal is retried as a whole.
        record = await this.rerunSteps(record, app)
        this.remember(record, stamp)
        // Its webhook event went into the outbox with the commit (see `commit`).
        this.ctx.eventOutbox?.committed(['refreshed'], id)
        this.emit('refreshed', record, app)
        return record
      } catch (error) {
        if (typeof error === 'object' && error !== null && journaled.has(error)) throw error
        if (isGrantGone(error)) {
          record = await this.markNeedsReauth(record, app, error)
          throw needsReauth(record, error, app.provider)
        }
        const delay = isTransient(error) ? this.retryDelay(error, attempt) : undefined
        if (delay === undefined || attempt >= this.ctx.retry.attempts) {
          record = await this.markFailure(record, app, error)
          // A token that is still usable beats an error: the refresh was only ahead of time.
          if (!options.force && isAccessTokenUsable(record.tokens, this.ctx.now()) && isTransient(error))
            return record
          throw error
        }
        await this.ctx.sleep(delay)
        const renewing = this.ctx.now()
        if (await this.ctx.store.renewLease(lease, this.ctx.leaseMs, renewing).catch(() => false))
          held.until = renewing + this.ctx.leaseMs - held.margin
      }
    }
  }

  /**
   * Commits a renewed token set. When the platform rotated the refresh token, the old one is
   * already dead there: a store that refuses the write is retried (renewing the lease, so nobody
   * else refreshes with the dead token meanwhile) for as long as the lease is surely held and at
   * most one lease life; past that the token set is sealed into the recovery journal and a loud
   * `store_unavailable` error is thrown. Nobody is handed the new access token before one of the
   * two holds it.
   */
  private async commitDurably(
    record: ConnectionRecord,
    app: ResolvedApp,
    renewed: RenewResult,
    lease: Lease,
    held: { until: number; margin: number },
  ): Promise<ConnectionRecord> {
    const { rotatedFrom } = renewed
    if (!rotatedFrom) return this.commit(record, app, renewed.tokens)
    const started = this.ctx.now()
    let delay = COMMIT_RETRY_MIN_MS
    for (;;) {
      try {
        return await this.commit(record, app, renewed.tokens, rotatedFrom)
      } catch (error) {
        if (error instanceof InnkeeperError && error.code === 'unknown_connection') throw error
        const now = this.ctx.now()
        // Renewing tells us whether the lease is still ours; an unreachable store answers nothing.
        const kept = await this.ctx.store.renewLease(lease, this.ctx.leaseMs, now).then(
          (ok) => ok,
          () => undefined,
        )
        if (kept) held.until = now + this.ctx.leaseMs - held.margin
        const giveUpAt = Math.min(held.until, started + this.ctx.leaseMs)
        if (kept === false || this.ctx.now() + delay >= giveUpAt)
          throw this.journal(record, app, { tokens: renewed.tokens, rotatedFrom }, error)
        await this.ctx.sleep(delay)
        delay = Math.min(COMMIT_RETRY_MAX_MS, delay * 2)
      }
    }
  }

  /** Keeps an uncommitted rotated token set in the recovery journal and says so loudly (no secret). */
  private journal(
    record: ConnectionRecord,
    app: ResolvedApp,
    recovered: { tokens: TokenSet; rotatedFrom: string },
    cause: unknown,
  ): InnkeeperError {
    const { journal } = this.ctx
    const platform = app.provider.displayName
    let path: string | undefined
    let writeError: unknown
    try {
      path = journal?.write(record.id, recovered, this.ctx.now())
    } catch (error) {
      writeError = error
    }
    const reason = cause instanceof InnkeeperError ? scrubTokenLike(cause.message) : 'the write failed'
    const message = path
      ? `${platform} rotated the refresh token of ${record.id}, but the store could not be written (${reason}). The new tokens are kept, sealed, in the recovery journal ${path}; they are written to the store the next time this connection is used on this machine (or run \`innkeeper refresh ${record.id}\` once the store is back). Until then, do not refresh it from another machine.`
      : `${platform} rotated the refresh token of ${record.id}, but neither the store nor the recovery journal could be written (${reason}${writeError ? `; journal: ${(writeError as NodeJS.ErrnoException).code ?? 'write failed'}` : journal ? '' : '; this store keeps no journal'}). The new refresh token is lost: connect it again with \`${reconnectCommand(record, app.provider)}\`.`
    process.emitWarning(message, { code: path ? 'INNKEEPER_REFRESH_JOURNALED' : 'INNKEEPER_REFRESH_LOST' })
    const error = new StoreError('store_unavailable', message, {
      cause,
      details: { connection: record.id, journaled: path !== undefined, ...(path ? { journal: path } : {}) },
    })
    journaled.add(error)
    if (path) this.scheduleReplay(record.id)
    const now = this.ctx.now()
    this.emit(
      'error',
      { ...record, state: 'error', lastError: { code: 'store_unavailable', message, at: now } },
      app,
    )
    return error
  }

  /**
   * The recovery journal's entries still on disk (for `innkeeper doctor`): `pending` ones wait
   * for the store to accept them; `other` ones do not belong to this store (another store or
   * key, or the connection was connected again since) and are never replayed into it.
   */
  journalEntries(): Array<JournalEntry & { status: 'pending' | 'other' }> {
    const { journal, store } = this.ctx
    return (journal?.entries() ?? []).map((entry) => ({
      ...entry,
      status: entry.store === store.kind && !this.stale.has(entry.path) ? 'pending' : 'other',
    }))
  }

  /**
   * Tries the replay again in the background (1 s, doubling to 1 min) until the store takes the
   * entry or someone else replayed it: the sooner it is in, the shorter the time another machine
   * could refresh with the dead token. The timer never keeps the process alive.
   */
  private scheduleReplay(id: string, delayMs = 1_000): void {
    if (this.closed || this.replayTimers.has(id)) return
    const again = () => {
      const waiting = this.ctx.journal
        ?.entriesFor(id)
        .some((entry) => entry.store === this.ctx.store.kind && !this.stale.has(entry.path))
      if (waiting) this.scheduleReplay(id, Math.min(60_000, delayMs * 2))
    }
    const timer = setTimeout(() => {
      this.replayTimers.delete(id)
      if (this.closed) return
      this.recover(id).then(again, again)
    }, delayMs)
    timer.unref()
    this.replayTimers.set(id, timer)
  }

  /**
   * Replays every journal entry of this store kind (on open); an entry that cannot go in yet (the
   * store is still down, someone holds the lease) stays for the next open or refresh. Answers how
   * many connections were restored.
   */
  async recoverJournal(): Promise<number> {
    const { journal, store } = this.ctx
    if (!journal) return 0
    const ids = new Set(
      journal
        .entries()
        .filter((entry) => entry.store === store.kind)
        .map((entry) => entry.connection),
    )
    let restored = 0
    for (const id of ids) {
      if (await this.recover(id).catch(() => false)) restored += 1
    }
    return restored
  }

  /**
   * Replays this connection's journal entries, taking the refresh lease for it (someone holding
   * it replays them under theirs). Answers whether an entry was applied.
   */
  private async recover(id: string): Promise<boolean> {
    if (!this.ctx.journal?.entriesFor(id).some((entry) => !this.stale.has(entry.path))) return false
    const { store } = this.ctx
    const lease = await store.acquireLease(
      refreshLeaseKey(id),
      this.ctx.owner,
      this.ctx.leaseMs,
      this.ctx.now(),
    )
    if (!lease) return false
    try {
      return await this.replayJournal(id)
    } finally {
      await store.releaseLease(lease).catch(() => false)
    }
  }

  /**
   * Under the refresh lease: writes journaled token sets into the store when it still holds the
   * refresh token they replaced (compare-and-swap), and removes them once written or superseded.
   */
  private async replayJournal(id: string): Promise<boolean> {
    const { journal, store } = this.ctx
    if (!journal) return false
    let applied = false
    for (const entry of journal.entriesFor(id)) {
      if (this.stale.has(entry.path) || entry.store !== store.kind) continue
      const recovered = journal.open(entry)
      if (!recovered) {
        this.stale.add(entry.path)
        continue
      }
      const record = await store.getConnection(id)
      if (await this.applyJournaled(entry, record, recovered)) applied = true
    }
    if (applied) this.forget(id)
    return applied
  }

  private async applyJournaled(
    entry: JournalEntry,
    record: ConnectionRecord | null,
    recovered: { tokens: TokenSet; rotatedFrom: string },
  ): Promise<boolean> {
    const journal = this.ctx.journal
    const current = record?.tokens?.refreshToken
    // Already written (by a commit that did land after all, or another replay).
    if (record && current === recovered.tokens.refreshToken) {
      journal?.remove(entry)
      return false
    }
    // The store moved on (reconnected, revoked) or never held this grant: nothing to restore here.
    if (!record || current !== recovered.rotatedFrom || record.state === 'revoked') {
      this.stale.add(entry.path)
      return false
    }
    const app = await this.ctx.resolveApp(record.app)
    const saved = await this.commit(record, app, recovered.tokens, recovered.rotatedFrom)
    journal?.remove(entry)
    if (saved.tokens?.refreshToken !== recovered.tokens.refreshToken) return false
    // Its webhook event went into the outbox with the commit (see `commit`).
    this.ctx.eventOutbox?.committed(['refreshed'], saved.id)
    this.emit('refreshed', saved, app)
    if (record.state === 'needs_reauth') this.emit('recovered', saved, app)
    return true
  }

  /** The token request(s) of one renewal, reported to the token request observers. */
  private async renewObserved(app: ResolvedApp, record: ConnectionRecord) {
    const started = performance.now()
    try {
      const renewed = await renewTokens(app, record, this.ctx.now)
      this.ctx.observeTokenRequest(app.record.name, { ok: true, latencyMs: performance.now() - started })
      return renewed
    } catch (error) {
      if (isTransient(error)) {
        const seconds = error instanceof InnkeeperError ? error.details.retryAfterSeconds : undefined
        this.ctx.observeTokenRequest(app.record.name, {
          ok: false,
          ...(typeof seconds === 'number' ? { retryAfterMs: seconds * 1000 } : {}),
        })
      }
      throw error
    }
  }

  /** The post-connect steps marked `afterEveryToken`, with the token just committed. */
  private async rerunSteps(record: ConnectionRecord, app: ResolvedApp): Promise<ConnectionRecord> {
    const accessToken = record.tokens?.accessToken
    if (!accessToken || !app.provider.postConnect.some((step) => step.afterEveryToken)) return record
    const metadata = await rerunStepsForNewToken(app, accessToken, record.metadata, this.ctx.now)
    if (JSON.stringify(metadata) === JSON.stringify(record.metadata)) return record
    return this.updateState(record, (latest) => ({
      ...latest,
      metadata: { ...latest.metadata, ...metadata },
    }))
  }

  private retryDelay(error: unknown, attempt: number): number | undefined {
    const { retry } = this.ctx
    const retryAfter = error instanceof InnkeeperError ? error.details.retryAfterSeconds : undefined
    if (typeof retryAfter === 'number') {
      const ms = retryAfter * 1000
      return ms <= retry.maxRetryAfterMs ? ms : undefined
    }
    const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1))
    return exponential / 2 + Math.random() * (exponential / 2)
  }

  /** Writes the new token set; on a concurrent write of other fields, re-applies onto the newer record. */
  private async commit(
    record: ConnectionRecord,
    app: ResolvedApp,
    tokens: TokenSet,
    rotatedFrom?: string,
  ): Promise<ConnectionRecord> {
    let base = record
    for (let tries = 0; ; tries++) {
      const now = this.ctx.now()
      const next: ConnectionRecord = {
        ...base,
        tokens,
        previousRefreshToken: rotatedFrom ?? base.previousRefreshToken,
        state: 'active',
        scopes: tokens.scope ?? base.scopes,
        failures: 0,
        lastError: undefined,
        lastRefreshAt: now,
        refreshDueAt: nextRefreshDue(tokens, app.provider, now, keepAlive(app)),
        updatedAt: now,
      }
      // The webhook events of this refresh are written in the same atomic write as its tokens.
      const events =
        record.state === 'error' ? (['recovered', 'refreshed'] as const) : (['refreshed'] as const)
      const outbox = await this.outboxFor(events, next, app)
      try {
        const saved = await this.ctx.store.saveConnection(next, base.version, outbox)
        crashPointAfterCommit()
        if (record.state === 'error') {
          this.ctx.eventOutbox?.committed(['recovered'], saved.id)
          this.emit('recovered', saved, app)
        }
        return saved
      } catch (error) {
        if (!(error instanceof StoreError && error.code === 'conflict') || tries >= 5) throw error
        const latest = await this.ctx.store.getConnection(record.id)
        if (!latest) throw unknownConnection(record.id)
        // Someone replaced the grant meanwhile (a reconnect): theirs wins, ours is dropped.
        if (latest.tokens?.refreshToken !== record.tokens?.refreshToken) return latest
        base = latest
      }
    }
  }

  private async markNeedsReauth(
    record: ConnectionRecord,
    app: ResolvedApp,
    error: unknown,
  ): Promise<ConnectionRecord> {
    const saved = await this.updateState(
      record,
      (latest) => ({
        ...latest,
        state: 'needs_reauth',
        lastError: errorSummary(error, this.ctx.now()),
        refreshDueAt: undefined,
      }),
      { events: () => ['needs_reauth'], app },
    )
    this.emit('needs_reauth', saved, app)
    return saved
  }

  private async markFailure(
    record: ConnectionRecord,
    app: ResolvedApp,
    error: unknown,
  ): Promise<ConnectionRecord> {
    const failures = record.failures + 1
    const now = this.ctx.now()
    // Back off exponentially, but try again while the current access token still works.
    const expiresAt = record.tokens?.expiresAt
    const untilExpiry =
      expiresAt !== undefined && expiresAt > now ? (expiresAt - now) / 2 : Number.POSITIVE_INFINITY
    const backoff = Math.min(
      60 * 60_000,
      30_000 * 2 ** Math.min(failures - 1, 7),
      Math.max(1_000, untilExpiry),
    )
    const saved = await this.updateState(
      record,
      (latest) => {
        // The failure window: failing continuously since `since` for too long means giving up.
        const since = (latest.failures > 0 ? latest.lastError?.since : undefined) ?? now
        const final = now - since >= this.ctx.failureWindowMs
        return {
          ...latest,
          state: 'error',
          failures,
          lastError: { ...errorSummary(error, now), since, ...(final ? { final } : {}) },
          refreshDueAt: final ? undefined : now + backoff,
        }
      },
      { events: (next) => (isGivenUp(next) && !isGivenUp(record) ? ['failed'] : []), app },
    )
    this.emit('error', saved, app)
    if (isGivenUp(saved) && !isGivenUp(record)) this.emit('failed', saved, app)
    return saved
  }

  private async updateState(
    record: ConnectionRecord,
    change: (latest: ConnectionRecord) => ConnectionRecord,
    written?: { events: (next: ConnectionRecord) => WrittenEvent[]; app: ResolvedApp },
  ): Promise<ConnectionRecord> {
    let latest = record
    for (let tries = 0; ; tries++) {
      try {
        const stamp = this.stamp(record.id)
        const next = { ...change(latest), updatedAt: this.ctx.now() }
        const events = written ? written.events(next) : []
        const outbox = written && events.length > 0 ? await this.outboxFor(events, next, written.app) : []
        const saved = await this.ctx.store.saveConnection(next, latest.version, outbox)
        if (events.length > 0) this.ctx.eventOutbox?.committed(events, saved.id)
        this.remember(saved, stamp)
        return saved
      } catch (error) {
        if (!(error instanceof StoreError && error.code === 'conflict') || tries >= 5) throw error
        const fresh = await this.ctx.store.getConnection(record.id)
        if (!fresh) throw unknownConnection(record.id)
        latest = fresh
      }
    }
  }

  /** The outbox entries of events a save is about to cause (none without webhooks). */
  private outboxFor(events: ReadonlyArray<WrittenEvent>, record: ConnectionRecord, app: ResolvedApp) {
    const outbox = this.ctx.eventOutbox
    if (!outbox) return Promise.resolve([])
    return outbox.entriesFor(events, toConnectionInfo(record, app.provider.name, this.ctx.now()))
  }

  private emit(
    event: 'refreshed' | 'needs_reauth' | 'error' | 'failed' | 'recovered',
    record: ConnectionRecord,
    app: ResolvedApp,
  ): void {
    this.ctx.events.emit(event, toConnectionInfo(record, app.provider.name, this.ctx.now()))
  }
}

export function keepAlive(app: ResolvedApp): number | undefined {
  const value = Number(app.record.settings.keepAliveSeconds)
  return Number.isFinite(value) && value > 0 ? value : app.provider.refresh.keepAliveSeconds
}

/** Marked `error` for good after the failure window: only a forced (manual) refresh tries again. */
function isGivenUp(record: ConnectionRecord): boolean {
  return record.state === 'error' && record.lastError?.final === true
}

function givenUp(record: ConnectionRecord): InnkeeperError {
  const since = record.lastError?.since ? new Date(record.lastError.since).toISOString() : 'a long time'
  return new InnkeeperError(
    'provider_unavailable',
    `Connection ${record.id} has failed since ${since} (last error: ${record.lastError?.code ?? 'unknown'}) and is no longer retried automatically. Fix the cause, then run \`innkeeper refresh ${record.id}\`.`,
    { details: { lastError: record.lastError?.code ?? null } },
  )
}

function isGrantGone(error: unknown): boolean {
  return (
    error instanceof NeedsReauthError ||
    (error instanceof TokenEndpointError && error.code === 'invalid_grant')
  )
}

export function errorSummary(error: unknown, at: number): { code: string; message: string; at: number } {
  if (error instanceof InnkeeperError) return { code: error.code, message: scrubTokenLike(error.message), at }
  return { code: 'unexpected', message: 'An unexpected error occurred while refreshing.', at }
}

export function unknownConnection(id: string): InnkeeperError {
  return new InnkeeperError(
    'unknown_connection',
    `There is no connection "${id}". List them with \`innkeeper connections\`.`,
  )
}

function isGrantLost(record: ConnectionRecord): boolean {
  return record.state === 'needs_reauth' || record.state === 'revoked'
}

function needsReauth(
  record: ConnectionRecord,
  cause?: unknown,
  provider?: ProviderDefinition,
): NeedsReauthError {
  const what = record.state === 'revoked' ? 'was revoked' : 'needs a new authorization'
  return new NeedsReauthError(
    `Connection ${record.id} ${what}: the platform no longer accepts its grant. Connect again with \`${reconnectCommand(record, provider)}\`.`,
    { cause: cause instanceof InnkeeperError ? cause : undefined },
  )
}
