// A rotated refresh token is never dropped on a store failure: the commit is retried while the
// refresh lease is held, then the token set is sealed into the recovery journal
// (`recovery-journal.ts`) and replayed into the store before the connection is next used here
// (and in the background until the store takes it).
import { type InnkeeperError, isInnkeeperError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import { type ConnectionRecord, type Lease, refreshLeaseKey } from '../stores/store.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import { rotatedButNotSaved } from './keeper-errors.js'
import type { RecordWriter } from './record-writes.js'
import type { JournalEntry } from './recovery-journal.js'
import { COMMIT_RETRY_MAX_MS, COMMIT_RETRY_MIN_MS } from './refresh-policy.js'
import type { RenewResult } from './renew.js'
import type { TokenCache } from './token-cache.js'

/** Errors thrown after the token set was journaled: reported as they are, never retried as a renewal. */
const journaled = new WeakSet<object>()

export function isJournaledError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && journaled.has(error)
}

/** How long the lease is surely ours (renewed as we go), and the margin kept before it lapses. */
export interface HeldLease {
  until: number
  margin: number
}

export class DurableCommit {
  /** Journal entries judged not to belong to this store (another keyring, another grant): not reopened. */
  private readonly stale = new Set<string>()
  /** Replays of entries this process journaled, retried in the background until the store takes them. */
  private readonly replayTimers = new Map<string, NodeJS.Timeout>()
  /** Journal looks in progress per connection (see `recover`). */
  private readonly recovering = new Map<string, Promise<boolean>>()
  private closed = false

  constructor(
    private readonly ctx: KeeperContext,
    private readonly writer: RecordWriter,
    private readonly cache: TokenCache,
  ) {}

  close(): void {
    this.closed = true
    for (const timer of this.replayTimers.values()) clearTimeout(timer)
    this.replayTimers.clear()
  }

  /**
   * Commits a renewed token set. When the platform rotated the refresh token, the old one is
   * already dead there: a store that refuses the write is retried (renewing the lease, so nobody
   * else refreshes with the dead token meanwhile) for as long as the lease is surely held and at
   * most one lease life; past that the token set is sealed into the recovery journal and a loud
   * `store_unavailable` error is thrown. Nobody is handed the new access token before one of the
   * two holds it.
   */
  async commit(
    record: ConnectionRecord,
    app: ResolvedApp,
    renewed: RenewResult,
    lease: Lease,
    held: HeldLease,
    release?: Lease,
  ): Promise<ConnectionRecord> {
    const { rotatedFrom } = renewed
    if (!rotatedFrom) return this.writer.commit(record, app, renewed.tokens, undefined, release)
    const started = this.ctx.now()
    let delay = COMMIT_RETRY_MIN_MS
    for (;;) {
      try {
        return await this.writer.commit(record, app, renewed.tokens, rotatedFrom, release)
      } catch (error) {
        if (isInnkeeperError(error) && error.code === 'unknown_connection') throw error
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
    let path: string | undefined
    let writeError: unknown
    try {
      path = journal?.write(record.id, recovered, this.ctx.now())
    } catch (error) {
      writeError = error
    }
    const error = rotatedButNotSaved(record, app.provider, { path, writeError, hasJournal: !!journal }, cause)
    process.emitWarning(error.message, {
      code: path ? 'INNKEEPER_REFRESH_JOURNALED' : 'INNKEEPER_REFRESH_LOST',
    })
    journaled.add(error)
    if (path) this.scheduleReplay(record.id)
    const now = this.ctx.now()
    this.writer.emit(
      'error',
      {
        ...record,
        state: 'error',
        lastError: { code: 'store_unavailable', message: error.message, at: now },
      },
      app,
    )
    return error
  }

  /**
   * The recovery journal's entries still on disk (for `innkeeper doctor`): `pending` ones wait
   * for the store to accept them; `other` ones do not belong to this store (another store or
   * key, or the connection was connected again since) and are never replayed into it.
   */
  entries(): Array<JournalEntry & { status: 'pending' | 'other' }> {
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
  async recoverAll(): Promise<number> {
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
   * it replays them under theirs). Answers whether an entry was applied. Concurrent callers of
   * one connection share one look at the journal: a herd of 10,000 callers lists the directory
   * once, not once each (that listing was what made a one-process herd slow, issue 15).
   */
  recover(id: string): Promise<boolean> {
    const running = this.recovering.get(id)
    if (running) return running
    const promise = this.recoverNow(id).finally(() => {
      if (this.recovering.get(id) === promise) this.recovering.delete(id)
    })
    this.recovering.set(id, promise)
    return promise
  }

  private async recoverNow(id: string): Promise<boolean> {
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
      return await this.replay(id)
    } finally {
      await store.releaseLease(lease).catch(() => false)
    }
  }

  /**
   * Under the refresh lease: writes journaled token sets into the store when it still holds the
   * refresh token they replaced (compare-and-swap), and removes them once written or superseded.
   */
  async replay(id: string): Promise<boolean> {
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
      if (await this.apply(entry, record, recovered)) applied = true
    }
    if (applied) this.cache.forget(id)
    return applied
  }

  private async apply(
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
    const saved = await this.writer.commit(record, app, recovered.tokens, recovered.rotatedFrom)
    journal?.remove(entry)
    if (saved.tokens?.refreshToken !== recovered.tokens.refreshToken) return false
    // Its webhook event went into the outbox with the commit (see `RecordWriter.commit`).
    this.ctx.eventOutbox?.committed(['refreshed'], saved.id)
    this.writer.emit('refreshed', saved, app)
    if (record.state === 'needs_reauth') this.writer.emit('recovered', saved, app)
    return true
  }
}
