// How a refresh's outcome reaches the store: the renewed token set, `needs_reauth` when the grant
// is gone, or a failure with its backoff and failure window. Every write goes through one
// compare-and-swap loop (`saveWithRetry`) and carries its webhook events in the same atomic
// write; the in-process events are emitted once it has landed.
import { isInnkeeperError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { ConnectionRecord, Lease } from '../stores/store.js'
import { crashPointAfterCommit, type KeeperContext, type ResolvedApp, type WrittenEvent } from './context.js'
import { errorSummary, unknownConnection } from './keeper-errors.js'
import { failureBackoffMs, isFailureWindowOver, isGivenUp, nextRefreshDue } from './refresh-policy.js'
import { type TokenCache, withLaterUse } from './token-cache.js'
import { toConnectionInfo } from './view.js'

/** Writes a conflicting write makes us retry (onto the newer record) before giving up. */
const SAVE_RETRIES = 5

export type KeeperEvent = 'refreshed' | 'needs_reauth' | 'error' | 'failed' | 'recovered'

export class RecordWriter {
  /** Refresh leases released by the save of their new tokens (nothing left to release). */
  readonly releasedWithSave = new WeakSet<Lease>()

  constructor(
    private readonly ctx: KeeperContext,
    private readonly cache: TokenCache,
  ) {}

  /**
   * Saves `change(latest)` with compare-and-swap on the record's version, the outbox entries of
   * `events(next)` in the same write. When another write got in first (`conflict`), reads the
   * newer record and applies the change to it again, unless `superseded` says the newer record
   * replaces ours (then it is answered as is, nothing written). `latest` carries the last use this
   * process noted (`lastUsedAt`), so every write saves it on the way.
   */
  async saveWithRetry(
    record: ConnectionRecord,
    change: (latest: ConnectionRecord, now: number) => ConnectionRecord,
    options: {
      events?: (next: ConnectionRecord) => ReadonlyArray<WrittenEvent>
      app?: ResolvedApp
      superseded?: (latest: ConnectionRecord) => boolean
      /** A refresh lease the save releases in the same atomic write (see `releasedWithSave`). */
      release?: Lease
    } = {},
  ): Promise<{
    saved: ConnectionRecord
    stamp: number
    events: ReadonlyArray<WrittenEvent>
    written: boolean
  }> {
    let latest = record
    for (let tries = 0; ; tries++) {
      const stamp = this.cache.stamp()
      const now = this.ctx.now()
      const next = { ...change(withLaterUse(latest, this.cache.lastUsedAt(latest.id)), now), updatedAt: now }
      const events = options.events?.(next) ?? []
      const outbox = options.app && events.length > 0 ? await this.outboxFor(events, next, options.app) : []
      try {
        const saved = await this.ctx.store.saveConnection(next, latest.version, outbox, options.release)
        if (options.release) this.releasedWithSave.add(options.release)
        return { saved, stamp, events, written: true }
      } catch (error) {
        if (!(isInnkeeperError(error) && error.code === 'conflict') || tries >= SAVE_RETRIES) throw error
        const fresh = await this.ctx.store.getConnection(record.id)
        if (!fresh) throw unknownConnection(record.id)
        if (options.superseded?.(fresh)) return { saved: fresh, stamp, events: [], written: false }
        latest = fresh
      }
    }
  }

  /** Saves and emits: the common case of a state change with its webhook events. */
  async update(
    record: ConnectionRecord,
    change: (latest: ConnectionRecord, now: number) => ConnectionRecord,
    written?: { events: (next: ConnectionRecord) => WrittenEvent[]; app: ResolvedApp },
  ): Promise<ConnectionRecord> {
    const result = await this.saveWithRetry(record, change, written ?? {})
    if (result.events.length > 0) this.ctx.eventOutbox?.committed(result.events, result.saved.id)
    this.remember(result)
    return result.saved
  }

  /**
   * Caches what `saveWithRetry` answered: the record it wrote (whose own change notice does not
   * drop it, see `TokenCache.rememberSaved`), or the newer one it read instead.
   */
  remember({ saved, stamp, written }: { saved: ConnectionRecord; stamp: number; written: boolean }): void {
    if (written) this.cache.rememberSaved(saved, stamp)
    else this.cache.remember(saved, stamp)
  }

  /**
   * Writes the new token set (the rotated-out refresh token kept beside it); someone who replaced
   * the grant meanwhile (a reconnect) wins, and ours is dropped.
   */
  async commit(
    record: ConnectionRecord,
    app: ResolvedApp,
    tokens: TokenSet,
    rotatedFrom?: string,
    release?: Lease,
  ): Promise<ConnectionRecord> {
    // The webhook events of this refresh are written in the same atomic write as its tokens.
    const recovering = record.state === 'error'
    const result = await this.saveWithRetry(
      record,
      (base, now) => {
        const next: ConnectionRecord = {
          ...base,
          tokens,
          previousRefreshToken: rotatedFrom ?? base.previousRefreshToken,
          state: 'active',
          scopes: tokens.scope ?? base.scopes,
          failures: 0,
          lastError: undefined,
          lastRefreshAt: now,
        }
        return { ...next, refreshDueAt: nextRefreshDue(next, app) }
      },
      {
        events: () => (recovering ? ['recovered', 'refreshed'] : ['refreshed']),
        app,
        superseded: (latest) => latest.tokens?.refreshToken !== record.tokens?.refreshToken,
        ...(release ? { release } : {}),
      },
    )
    const { saved, written } = result
    this.remember(result)
    if (!written) return saved
    crashPointAfterCommit()
    if (recovering) {
      this.ctx.eventOutbox?.committed(['recovered'], saved.id)
      this.emit('recovered', saved, app)
    }
    return saved
  }

  async markNeedsReauth(
    record: ConnectionRecord,
    app: ResolvedApp,
    error: unknown,
  ): Promise<ConnectionRecord> {
    const saved = await this.update(
      record,
      (latest, now) => ({
        ...latest,
        state: 'needs_reauth',
        lastError: errorSummary(error, now),
        refreshDueAt: undefined,
      }),
      { events: () => ['needs_reauth'], app },
    )
    this.emit('needs_reauth', saved, app)
    return saved
  }

  /**
   * Records a failed refresh: backs off (see `failureBackoffMs`), and once the connection has
   * failed for the whole failure window, marks it given up (`failed`).
   */
  async markFailure(record: ConnectionRecord, app: ResolvedApp, error: unknown): Promise<ConnectionRecord> {
    const failures = record.failures + 1
    const now = this.ctx.now()
    const backoff = failureBackoffMs(failures, record.tokens, now)
    const saved = await this.update(
      record,
      (latest) => {
        const since = (latest.failures > 0 ? latest.lastError?.since : undefined) ?? now
        const final = isFailureWindowOver(since, now, this.ctx.failureWindowMs)
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

  /** The outbox entries of events a save is about to cause (none without webhooks). */
  private outboxFor(events: ReadonlyArray<WrittenEvent>, record: ConnectionRecord, app: ResolvedApp) {
    const outbox = this.ctx.eventOutbox
    if (!outbox) return Promise.resolve([])
    return outbox.entriesFor(events, toConnectionInfo(record, app.provider.name, this.ctx.now()))
  }

  emit(event: KeeperEvent, record: ConnectionRecord, app: ResolvedApp): void {
    this.ctx.events.emit(event, toConnectionInfo(record, app.provider.name, this.ctx.now()))
  }
}
