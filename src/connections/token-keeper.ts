// Hands out valid access tokens and refreshes them safely:
// - in this process, concurrent callers of one connection share a single refresh (single-flight);
// - across processes, a lease on `refresh:<id>` in the store lets one refresher act at a time,
//   and whoever finds the token already renewed by someone else uses theirs;
// - the new token set is committed to the store before anyone gets the new access token, and
//   the rotated-out refresh token is kept beside it until the new one has worked.
// Its parts: `token-cache.ts` (records kept while the changes feed is live), `record-writes.ts`
// (every write of a refresh's outcome), `durable-commit.ts` (a rotated token set survives a
// store outage), `refresh-policy.ts` (when, how often, how long) and `keeper-errors.ts`.
import { isInnkeeperError, isTransient, type NeedsReauthError } from '../errors.js'
import { type ConnectionRecord, type Lease, refreshLeaseKey } from '../stores/store.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import { isApiKeyConnection } from './credential.js'
import { DurableCommit, type HeldLease, isJournaledError } from './durable-commit.js'
import { inFlight } from './in-flight.js'
import {
  givenUp,
  isGrantGone,
  isGrantLost,
  needsReauth,
  refreshHeldTooLong,
  unknownConnection,
} from './keeper-errors.js'
import { rerunStepsForNewToken } from './post-connect.js'
import { RecordWriter } from './record-writes.js'
import type { JournalEntry } from './recovery-journal.js'
import {
  isAccessTokenFresh,
  isAccessTokenUsable,
  isGivenUp,
  retryDelay,
  WAIT_MAX_MS,
  WAIT_MIN_MS,
} from './refresh-policy.js'
import { renewTokens } from './renew.js'
import { type CachedConnection, type CachedToken, TokenCache } from './token-cache.js'
import { UseNotes } from './use-notes.js'

export interface RefreshOptions {
  /** Refresh even if the stored token looks fresh (unless someone else already replaced `rejectedAccessToken`). */
  force?: boolean
  /** The access token the provider just refused: any other fresh token in the store is good. */
  rejectedAccessToken?: string
  /** A lease already held on `refresh:<id>` (the background refresher claims before refreshing). */
  lease?: Lease
  /** Refresh only if the connection is still due (`refreshDueAt` reached): the background refresher's rule. */
  ifDue?: boolean
}

/** Connection records one process keeps in memory at most (least recently used dropped first). */
export const TOKEN_CACHE_KEPT = 10_000

/** An access-token lookup in progress: its promise, the change stamp it started at, the token alone. */
interface Lookup {
  promise: Promise<CachedToken & { accessToken: string }>
  stamp: number
  value?: Promise<string>
}

export class TokenKeeper {
  private readonly inflight = new Map<string, Promise<ConnectionRecord>>()
  /** Access-token lookups in progress per connection, and the change stamp each started at. */
  private readonly lookups = new Map<string, Lookup>()
  private readonly cache: TokenCache
  private readonly writer: RecordWriter
  private readonly durable: DurableCommit
  private readonly uses: UseNotes

  constructor(
    private readonly ctx: KeeperContext,
    cacheSize: number = TOKEN_CACHE_KEPT,
  ) {
    this.cache = new TokenCache(ctx.store, ctx.now, cacheSize)
    this.writer = new RecordWriter(ctx, this.cache)
    this.durable = new DurableCommit(ctx, this.writer, this.cache)
    this.uses = new UseNotes(ctx, this.cache, this.writer)
  }

  /** How many connection records this process holds in memory (bounded by `cacheSize`). */
  get cachedRecords(): number {
    return this.cache.count
  }

  /** The cached token set while it is fresh, without touching the store: the hot path. A use. */
  freshCached(id: string): (CachedToken & { accessToken: string }) | undefined {
    const record = this.cache.fresh(id)
    if (!record) return undefined
    this.uses.seen(record)
    return record.tokens
  }

  /**
   * A valid access token: cached while fresh, otherwise looked up and renewed once, however many
   * callers. Callers of one connection join one lookup (the journal check, the store read, the
   * refresh), so each costs one map lookup and one promise reaction: a herd of 10,000 callers
   * does not queue 10,000 chains of awaits ahead of the refresh they all wait for (issue 15). A
   * caller arriving after a change of the connection was heard starts a lookup of its own. A use
   * (see `UseNotes`).
   */
  accessToken(id: string): Promise<CachedToken & { accessToken: string }> {
    const cached = this.freshCached(id)
    if (cached) return Promise.resolve(cached)
    return this.joinLookup(id).promise
  }

  /**
   * The access token alone (`Connection.accessToken()`): as `accessToken`, and the callers that
   * join one lookup share one promise of the token, so a herd allocates nothing per caller.
   */
  accessTokenValue(id: string): Promise<string> {
    const cached = this.freshCached(id)
    if (cached) return Promise.resolve(cached.accessToken)
    const lookup = this.joinLookup(id)
    lookup.value ??= lookup.promise.then((tokens) => tokens.accessToken)
    return lookup.value
  }

  /** The lookup of `id` in progress, joined unless a change was heard since it started; or a new one. */
  private joinLookup(id: string): Lookup {
    const running = this.lookups.get(id)
    if (running && !this.cache.changedSince(id, running.stamp)) return running
    const promise = this.lookUp(id).finally(() => {
      if (this.lookups.get(id)?.promise === promise) this.lookups.delete(id)
    })
    const started: Lookup = { promise, stamp: this.cache.stamp() }
    this.lookups.set(id, started)
    return started
  }

  private async lookUp(id: string): Promise<CachedToken & { accessToken: string }> {
    const stored = await this.load(id)
    if (!stored) throw unknownConnection(id)
    if (stored.state === 'active' && isAccessTokenFresh(stored.tokens, this.ctx.now())) {
      this.uses.seen(stored)
      return stored.tokens
    }
    // The refresh's save carries the use.
    this.uses.seen(stored, { save: false })
    // The stale record just read is not passed on: the refresh takes the lease with a fresh read
    // (one store call), where a record in hand would cost a lease call and a read under it.
    const record = await this.refresh(id)
    return record.tokens as CachedToken & { accessToken: string }
  }

  /** The connection as last seen by this process (loaded once), for headers and metadata. */
  async cachedRecord(id: string): Promise<CachedConnection> {
    const cached = this.cache.connection(id)
    if (cached) return cached
    const stored = await this.load(id)
    if (!stored) throw unknownConnection(id)
    return stored
  }

  /** One store read per connection at a time, after any journaled token set went in. */
  private async load(id: string): Promise<ConnectionRecord | null> {
    await this.cache.watch()
    await this.durable.recover(id)
    return this.cache.read(id)
  }

  /** Caches a record this process just wrote or read (see `TokenCache.remember`). */
  remember(record: ConnectionRecord): void {
    this.cache.remember(record)
  }

  forget(id: string): void {
    this.cache.forget(id)
  }

  /** Whether this process holds a record of the connection (it exists, as far as it knows). */
  knows(id: string): boolean {
    return this.cache.has(id)
  }

  /** Saves the uses noted and not saved yet, and stops following the changes feed. */
  async close(): Promise<void> {
    await this.uses.flush()
    this.durable.close()
    await this.cache.close()
  }

  /** Single-flight entry point: concurrent callers share one refresh of the connection. */
  refresh(id: string, options: RefreshOptions = {}): Promise<ConnectionRecord> {
    const running = this.inflight.get(id)
    if (running && !options.lease) return running
    if (options.lease) this.cache.claim(id)
    const promise = this.refreshAcrossProcesses(id, options).finally(() => {
      if (this.inflight.get(id) === promise) this.inflight.delete(id)
      if (options.lease) this.cache.release(id)
    })
    if (!options.lease) this.inflight.set(id, promise)
    return promise
  }

  private async refreshAcrossProcesses(id: string, options: RefreshOptions): Promise<ConnectionRecord> {
    const { store } = this.ctx
    let wait = WAIT_MIN_MS
    let seen: ConnectionRecord | undefined
    const deadline = this.ctx.now() + this.ctx.leaseMs * 2
    // A token set journaled on this machine goes into the store before anything else is decided.
    if (options.lease) await this.durable.replay(id)
    else await this.durable.recover(id)
    let waited = false
    for (;;) {
      const stamp = this.cache.stamp()
      // With no lease given, the lease is taken with the read: one store call. After waiting for
      // someone else's refresh it is a plain read: their commit usually made the lease unneeded,
      // and taking it would have every waiting process write the lease row (one after the other)
      // and release it again before its callers get the token (issue 15).
      const leased =
        options.lease || waited
          ? undefined
          : await store.leaseConnection(id, this.ctx.owner, this.ctx.leaseMs, this.ctx.now())
      const record = leased ? leased.record : await store.getConnection(id)
      if (!record) throw unknownConnection(id)
      this.cache.remember(record, stamp)
      const unneeded = () => (leased?.lease ? store.releaseLease(leased.lease).catch(() => false) : undefined)
      if (isGrantLost(record)) {
        await unneeded()
        throw await this.grantLost(record)
      }
      const done = this.alreadyRenewed(record, options, seen)
      if (done) {
        await unneeded()
        return done
      }
      seen ??= record

      const lease =
        options.lease ??
        (leased
          ? leased.lease
          : await store.acquireLease(refreshLeaseKey(id), this.ctx.owner, this.ctx.leaseMs, this.ctx.now()))
      if (lease) {
        // Counted in flight until the lease is released: a CLI interrupted now waits for the
        // new tokens to be saved (and the lease freed) before it exits.
        const first = seen
        const readWithLease = leased?.record ?? undefined
        return await inFlight(async () => {
          try {
            return await this.refreshHoldingLease(id, lease, options, first, readWithLease)
          } finally {
            // Usually already released by the save of the new tokens (see `RecordWriter.commit`).
            if (!options.lease && !this.writer.releasedWithSave.has(lease))
              await store.releaseLease(lease).catch(() => false)
          }
        })
      }
      // Someone else is refreshing: wait for their commit (or their lease to lapse), then look again.
      if (this.ctx.now() > deadline) {
        throw refreshHeldTooLong(id)
      }
      await this.cache.waitForChange(id, stamp, wait, this.ctx.sleep)
      waited = true
      wait = Math.min(WAIT_MAX_MS, wait * 2)
    }
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
    seen?: ConnectionRecord,
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
    // Renewed by someone else since we first looked (a save that only noted a use does not count).
    const renewedSince =
      seen !== undefined &&
      record.version !== seen.version &&
      record.lastRefreshAt !== undefined &&
      (record.lastRefreshAt !== seen.lastRefreshAt || record.tokens.accessToken !== seen.tokens?.accessToken)
    if (renewedSince) return record
    return undefined
  }

  private async refreshHoldingLease(
    id: string,
    lease: Lease,
    options: RefreshOptions,
    seen: ConnectionRecord,
    readWithLease?: ConnectionRecord,
  ): Promise<ConnectionRecord> {
    const margin = Math.min(5_000, this.ctx.leaseMs / 4)
    const held: HeldLease = { until: this.ctx.now() + this.ctx.leaseMs - margin, margin }
    // Under the lease: a journal another process on this machine wrote since goes in first.
    const replayed = await this.durable.replay(id)
    // Read under the lease (the previous holder may have committed just before releasing),
    // unless the record came with the lease in one step and no journal changed it since.
    let record = readWithLease && !replayed ? readWithLease : await this.ctx.store.getConnection(id)
    if (!record) throw unknownConnection(id)
    if (isGrantLost(record)) throw await this.grantLost(record)
    const done = this.alreadyRenewed(record, options, seen)
    if (done) return done
    const app = await this.ctx.resolveApp(record.app)

    let attempt = 0
    for (;;) {
      attempt += 1
      try {
        const renewed = await this.renewObserved(app, record)
        // The save also releases a lease taken here, unless steps still need it after the save.
        const release =
          options.lease || app.provider.postConnect.some((step) => step.afterEveryToken) ? undefined : lease
        record = await this.durable.commit(record, app, renewed, lease, held, release)
        // Committed first (a rotated refresh token must never be lost), then the steps the
        // provider repeats for every token; if they fail, the renewal is retried as a whole.
        // Each save cached the record it wrote (see `RecordWriter.remember`).
        record = await this.rerunSteps(record, app)
        // Its webhook event went into the outbox with the commit (see `RecordWriter.commit`).
        this.ctx.eventOutbox?.committed(['refreshed'], id)
        this.writer.emit('refreshed', record, app)
        return record
      } catch (error) {
        if (isJournaledError(error)) throw error
        if (isGrantGone(error)) {
          record = await this.writer.markNeedsReauth(record, app, error)
          throw needsReauth(record, error, app.provider)
        }
        const delay = isTransient(error) ? retryDelay(this.ctx.retry, error, attempt) : undefined
        if (delay === undefined || attempt >= this.ctx.retry.attempts) {
          record = await this.writer.markFailure(record, app, error)
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
   * The recovery journal's entries still on disk (for `innkeeper doctor`), see
   * `DurableCommit.entries`.
   */
  journalEntries(): Array<JournalEntry & { status: 'pending' | 'other' }> {
    return this.durable.entries()
  }

  /** Replays every journal entry of this store kind (on open); answers how many were restored. */
  recoverJournal(): Promise<number> {
    return this.durable.recoverAll()
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
        const seconds = isInnkeeperError(error) ? error.details.retryAfterSeconds : undefined
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
    return this.writer.update(record, (latest) => ({
      ...latest,
      metadata: { ...latest.metadata, ...metadata },
    }))
  }
}
