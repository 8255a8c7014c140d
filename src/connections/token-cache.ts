// The token keeper's memory of connection records, kept only while the store's changes feed is
// live: a change anywhere (a disconnect, a revoke, a reauthorization, another process's refresh)
// drops the cached record, so no process keeps handing out a token another one has disconnected,
// and wakes whoever waits for another process's refresh of that connection. The notice of a save
// this process made itself does not drop the record that save wrote (see `rememberSaved`).
// Memory stays bounded however many connections pass through: the cache keeps the `size` most
// recently used records, a refresh under a claimed lease (the background refresher) only updates
// a record someone here already asked for, and the changes heard are remembered for the most
// recent `size` connections only, and each entry holds only what a token request and an API call
// read (the access token with its type and expiry, the app, the metadata headers are made from,
// the version and last use), never the whole record: no refresh token, no history.
import type { TokenSet } from '../model/token-set.js'
import { ANY_CONNECTION, type ChangesSubscription } from '../stores/changes.js'
import type { ConnectionRecord, Store } from '../stores/store.js'
import { LazyLru } from './lazy-lru.js'
import { accessTokenDueAt } from './refresh-policy.js'

/** The record with `noted` as its `lastUsedAt` when that use is later than its own. */
export function withLaterUse(record: ConnectionRecord, noted: number | undefined): ConnectionRecord {
  if (noted === undefined || (record.lastUsedAt !== undefined && record.lastUsedAt >= noted)) return record
  return { ...record, lastUsedAt: noted }
}

/** The access token of a cached connection, with what is handed out beside it. */
export interface CachedToken {
  accessToken?: string
  tokenType: string
  expiresAt?: number
}

/** What this process keeps of a connection's last committed record. */
export interface CachedConnection {
  id: string
  app: string
  metadata: Record<string, unknown>
  tokens: CachedToken | null
  version: number
  /** The last use known here: stored, or noted and not saved yet (see `UseNotes`). */
  lastUsedAt?: number
}

interface Entry extends CachedConnection {
  /** Until when the access token counts as fresh. */
  freshUntil: number
}

export class TokenCache {
  /** What is kept of the last committed record per connection (see `Entry`). */
  private readonly records: LazyLru<string, Entry>
  /** Uses noted and not saved yet (`noteUse`), the `size` most recent. */
  private readonly notes: LazyLru<string, number>
  /** Store reads in progress per connection: a herd of callers shares one read, not one each. */
  private readonly loading = new Map<string, Promise<ConnectionRecord | null>>()
  /**
   * Changes heard, numbered: the numbers of the last two changes per connection (oldest first, at
   * most `size` of them), so a read that raced a change is not cached. A connection whose entry
   * was dropped counts as changed at `forgottenUpTo`; `*` counts as a change of every one.
   */
  private readonly lastChange = new Map<string, { last: number; before: number }>()
  private changes = 0
  private forgottenUpTo = 0
  private everythingChangedAt = 0
  /**
   * Saves of this process whose own change notice has not come back yet: the version each wrote.
   * That notice keeps the cached record when it is at least as new (see `rememberSaved`).
   */
  private readonly savedHere = new Map<string, number>()
  /** Callers waiting for another process's refresh of a connection, woken by its change. */
  private readonly changeWaiters = new Map<string, Set<() => void>>()
  /** Connections being refreshed under a lease the caller claimed (the background refresher). */
  private readonly claimed = new Set<string>()
  private watching: Promise<void> | undefined
  private subscription: ChangesSubscription | undefined
  private closed = false

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly size: number,
  ) {
    this.records = new LazyLru(size)
    this.notes = new LazyLru(size)
  }

  /** How many connection records are held (bounded by `size`). */
  get count(): number {
    return this.records.size
  }

  /** Whether the changes feed is live (without it nothing cached is trusted). */
  get live(): boolean {
    return this.subscription?.live === true
  }

  /** What is cached of the connection, while the feed is live. */
  connection(id: string): CachedConnection | undefined {
    return this.live ? this.records.get(id) : undefined
  }

  /** The cached connection while its access token is fresh, without touching the store: the hot path. */
  fresh(id: string): (CachedConnection & { tokens: CachedToken & { accessToken: string } }) | undefined {
    const cached = this.live ? this.records.get(id) : undefined
    return cached && this.now() < cached.freshUntil
      ? (cached as CachedConnection & { tokens: CachedToken & { accessToken: string } })
      : undefined
  }

  /** The last use known here: noted and not saved yet, or as the cached record says. */
  lastUsedAt(id: string): number | undefined {
    const noted = this.notes.get(id)
    const cached = this.records.peek(id)?.lastUsedAt
    return noted === undefined || (cached !== undefined && cached > noted) ? cached : noted
  }

  /**
   * Notes a use of the connection at `now` (see `UseNotes`), kept until a write of it saves it
   * (however the cached record changes meanwhile); the cached record shows it at once, so the hot
   * path sees it.
   */
  noteUse(record: CachedConnection, now: number): void {
    this.notes.set(record.id, now)
    const cached = this.records.peek(record.id)
    if (cached?.version === record.version) this.records.set(record.id, { ...cached, lastUsedAt: now })
  }

  /** One store read per connection at a time; concurrent callers join it. Caches what it read. */
  read(id: string): Promise<ConnectionRecord | null> {
    let running = this.loading.get(id)
    if (!running) {
      const stamp = this.stamp()
      // Cached once, when the read answers, however many callers joined it.
      const promise = this.store
        .getConnection(id)
        .then((record) => {
          if (record) this.remember(record, stamp)
          return record
        })
        .finally(() => {
          if (this.loading.get(id) === promise) this.loading.delete(id)
        })
      this.loading.set(id, promise)
      running = promise
    }
    return running
  }

  /**
   * Follows the store's changes feed (from the first read on): a change drops the cached record.
   * Without a feed (it failed to start) nothing is cached: every call reads the store.
   */
  watch(): Promise<void> {
    this.watching ??= this.store
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
      this.savedHere.clear()
      this.records.clear()
      this.loading.clear()
      return
    }
    const previous = this.lastChange.get(id)
    this.lastChange.delete(id)
    this.lastChange.set(id, { last: this.changes, before: previous?.last ?? this.forgottenUpTo })
    if (this.lastChange.size > this.size) {
      const [oldest, { last }] = this.lastChange.entries().next().value as [string, { last: number }]
      this.lastChange.delete(oldest)
      this.forgottenUpTo = last
    }
    const saved = this.savedHere.get(id)
    this.savedHere.delete(id)
    // The notice of this process's own save: nothing newer than what it wrote can be behind it.
    const kept = saved !== undefined && (this.records.peek(id)?.version ?? -1) >= saved
    if (!kept) this.records.delete(id)
    this.loading.delete(id)
  }

  /** The number of changes heard so far: what a read starting now is compared against. */
  stamp(): number {
    return this.changes
  }

  /** Whether a change of `id` may have been heard since `stamp`. */
  changedSince(id: string, stamp: number): boolean {
    return this.heardSince(id, stamp) > 0
  }

  /** How many changes of `id` were heard since `stamp`: 0, 1, or 2 for two or more (or unknown). */
  private heardSince(id: string, stamp: number): 0 | 1 | 2 {
    if (this.everythingChangedAt > stamp) return 2
    const heard = this.lastChange.get(id)
    if ((heard?.last ?? this.forgottenUpTo) <= stamp) return 0
    return (heard?.before ?? this.forgottenUpTo) <= stamp ? 1 : 2
  }

  /**
   * Caches a record read or written at `stamp` (see `stamp`), unless a change was heard since:
   * then the record may already be out of date, and the next caller reads the store again.
   * A connection refreshed under a claimed lease is only updated if it is cached already: the
   * background refresher must not fill memory with connections nobody here asked for.
   */
  remember(record: ConnectionRecord, stamp?: number): void {
    if (stamp !== undefined && this.changedSince(record.id, stamp)) return
    this.keep(record)
  }

  /**
   * Caches a record this process's store handle just saved, committed after `stamp`. The feed
   * announces that save exactly once, and every feed delivers changes in commit order (PostgreSQL
   * NOTIFY, Redis PUBLISH; SQLite and memory announce their own save as it commits), so another
   * process's later change is always heard after this save's notice:
   * - no change heard since `stamp`: the next one heard is this save's (or an older one's); it
   *   does not drop the record (see `changed`);
   * - one heard: it was this save's or an older one's, the record is the newest;
   * - more: one may be a later change by someone else, the record is not cached.
   */
  rememberSaved(record: ConnectionRecord, stamp: number): void {
    // Before the feed runs (or while it is down) this save's notice may never be heard.
    const heard = this.live ? this.heardSince(record.id, stamp) : 2
    if (heard > 1) {
      this.remember(record, stamp)
      return
    }
    if (!this.keep(record) || heard === 1) return
    this.savedHere.delete(record.id)
    this.savedHere.set(record.id, record.version)
    if (this.savedHere.size > this.size) this.savedHere.delete(this.savedHere.keys().next().value as string)
  }

  /** Caches the record (see `remember`); false for one refreshed under a claimed lease and not kept. */
  private keep(record: ConnectionRecord): boolean {
    if (this.claimed.has(record.id) && !this.records.has(record.id)) return false
    const tokens = record.tokens
    const freshUntil = tokens?.accessToken
      ? (accessTokenDueAt(tokens) ?? Number.POSITIVE_INFINITY)
      : Number.NEGATIVE_INFINITY
    // A use noted here and not saved yet is kept over an older stored one; once saved, let go.
    const noted = this.notes.get(record.id)
    if (noted !== undefined && record.lastUsedAt !== undefined && record.lastUsedAt >= noted)
      this.notes.delete(record.id)
    this.records.set(record.id, {
      id: record.id,
      app: record.app,
      metadata: record.metadata,
      tokens: tokens ? cachedToken(tokens) : null,
      version: record.version,
      lastUsedAt: withLaterUse(record, this.lastUsedAt(record.id)).lastUsedAt,
      freshUntil,
    })
    return true
  }

  forget(id: string): void {
    this.records.delete(id)
  }

  has(id: string): boolean {
    return this.records.has(id)
  }

  /** Marks a connection as refreshed under a claimed lease (see `remember`) until `release`. */
  claim(id: string): void {
    this.claimed.add(id)
  }

  release(id: string): void {
    this.claimed.delete(id)
  }

  /**
   * Waits up to `ms` for another process's commit on `id`: the changes feed wakes the waiter the
   * moment it arrives (PostgreSQL NOTIFY, Redis PUBLISH; SQLite's feed polls), the timer stays
   * as the fallback (a lease that lapses sends no change). Returns at once if a change of `id`
   * was heard since `stamp`, the moment its record was read.
   */
  async waitForChange(
    id: string,
    stamp: number,
    ms: number,
    sleep: (ms: number) => Promise<void>,
  ): Promise<void> {
    await this.watch()
    if (!this.live) return sleep(ms)
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

  /** Stops following the changes feed and forgets every record. */
  async close(): Promise<void> {
    this.closed = true
    this.records.clear()
    this.savedHere.clear()
    await this.watching
    await this.subscription?.close()
    this.subscription = undefined
  }
}

/** The handed-out part of a token set (one shape for all, so the hot path's reads stay monomorphic). */
function cachedToken(tokens: TokenSet): CachedToken {
  return {
    accessToken: tokens.accessToken,
    // The usual type shares one string instead of a copy per connection.
    tokenType: tokens.tokenType === 'Bearer' ? 'Bearer' : tokens.tokenType,
    expiresAt: tokens.expiresAt,
  }
}
