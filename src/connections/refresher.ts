// The background refresher behind `innkeeper worker`: claims connections whose tokens are due
// (the store picks them atomically, so several workers share the load and none is refreshed
// twice for one expiry), renews them under the claimed lease, and backs off on failures.
// Stopping finishes what is in flight and releases every lease it holds. A connection whose
// secrets this process cannot open (sealed with a key it lacks) is skipped, reported once per
// process and key, and its lease left to lapse, so it is looked at again once per lease, not in
// a tight loop, and never stops the others from being refreshed.
// How many refreshes run at once adapts per app (RefreshSlots/AdaptiveLimit): it grows while
// the platform answers at its usual speed and shrinks when it answers 429, 5xx or times out,
// waiting out any Retry-After, under `maxConcurrencyPerApp` and the worker's `concurrency`.

import { isInnkeeperError } from '../errors.js'
import type { ClaimedConnection, ConnectionRecord, Lease, Store } from '../stores/store.js'
import { RefreshSlots } from './adaptive-limit.js'
import type { TokenRequestObserver } from './context.js'
import { PollingLoop } from './polling-loop.js'

/** What the refresher needs of the library: the clock, and a refresh under a claimed lease. */
export interface ClaimedRefresh {
  now(): number
  refreshClaimed(id: string, lease: Lease): Promise<unknown>
  /** Told (once per connection and key id) of a claimed record it could not open; never a secret. */
  unreadableClaimed?(record: ConnectionRecord): Promise<void>
  /** Hears how each refresh's token request went; answers the way to stop listening. */
  observeTokenRequests(observer: TokenRequestObserver): () => void
}

export interface RefresherOptions {
  /** Connections claimed per round (default 50). */
  batchSize?: number
  /** Refreshes this worker runs at once at most, all apps together (default 64). */
  concurrency?: number
  /**
   * Refreshes at once per app at most (default 32; an app's `maxConcurrency` setting is lower
   * still if set): platforms rate-limit per OAuth client. Below it the limit adapts.
   */
  maxConcurrencyPerApp?: number
  /** Pause between rounds when nothing was due (default 1 s). */
  idleMs?: number
  /** Lease taken on each claimed connection (default 60 s). */
  leaseMs?: number
  /** Claim connections this much before they are due (default 0). */
  lookAheadMs?: number
}

export interface RefresherStats {
  claimed: number
  refreshed: number
  failed: number
  needsReauth: number
  /** Claimed but skipped: sealed with a key this process does not have (or damaged). */
  unreadable: number
  rounds: number
  /**
   * Claimed but handed back unrefreshed: its app's limit (or a Retry-After) kept it waiting
   * past half its lease. It stays due and is claimed again.
   */
  deferred: number
}

export class BackgroundRefresher {
  readonly stats: RefresherStats = {
    claimed: 0,
    refreshed: 0,
    failed: 0,
    needsReauth: 0,
    unreadable: 0,
    rounds: 0,
    deferred: 0,
  }
  private readonly loop: PollingLoop
  /** `<connection id> <key id>` of unreadable records already reported by this process. */
  private readonly reported = new Set<string>()
  private readonly options: Required<RefresherOptions>
  private readonly slots: RefreshSlots
  private unobserve: (() => void) | undefined

  constructor(
    private readonly keeper: ClaimedRefresh,
    private readonly store: Store,
    private readonly owner: string,
    options: RefresherOptions = {},
    /** An app's own cap (its `maxConcurrency` setting), if any. */
    appCap: (app: string) => number | undefined = () => undefined,
  ) {
    this.options = {
      batchSize: 50,
      concurrency: 64,
      maxConcurrencyPerApp: 32,
      idleMs: 1_000,
      leaseMs: 60_000,
      lookAheadMs: 0,
      ...options,
    }
    const { maxConcurrencyPerApp } = this.options
    this.slots = new RefreshSlots(this.options.concurrency, (app) =>
      Math.min(maxConcurrencyPerApp, appCap(app) ?? maxConcurrencyPerApp),
    )
    this.loop = new PollingLoop(() => this.runOnce(), this.options.batchSize, this.options.idleMs)
  }

  /** Per app: the refreshes at once it settled at, how often it backed off, its fastest answer. */
  get concurrency(): Record<string, { limit: number; decreases: number; floorMs: number | null }> {
    return this.slots.snapshot()
  }

  start(): void {
    this.observe()
    this.loop.start()
  }

  private observe(): void {
    if (this.unobserve) return
    const observer: TokenRequestObserver = (app, outcome) => {
      const limit = this.slots.limitOf(app)
      if (outcome.ok) limit.succeeded(outcome.latencyMs)
      else limit.overloaded(Date.now(), outcome.retryAfterMs)
    }
    this.unobserve = this.keeper.observeTokenRequests(observer)
  }

  /** One round: claim what is due and refresh it; resolves to how many were claimed. */
  async runOnce(): Promise<number> {
    const now = this.keeper.now()
    const claimed = await this.store.claimDueConnections(
      now + this.options.lookAheadMs,
      this.options.batchSize,
      this.owner,
      this.options.leaseMs,
    )
    this.stats.rounds += 1
    this.stats.claimed += claimed.length
    this.observe()
    const claimedAt = Date.now()
    await Promise.all(
      claimed.map(async (item) => {
        const app = item.connection.app
        await this.slots.acquire(app)
        try {
          // Waited so long for a slot (a Retry-After, a small limit) that the lease is half
          // gone: hand it back rather than refresh on a lease that might lapse mid-request.
          if (Date.now() - claimedAt > this.options.leaseMs / 2) {
            this.stats.deferred += 1
            await this.store.releaseLease(item.lease).catch(() => false)
            return
          }
          await this.refreshOne(item)
        } finally {
          this.slots.release(app)
        }
      }),
    )
    return claimed.length
  }

  private async refreshOne({ connection, lease }: ClaimedConnection): Promise<void> {
    if (connection.unreadable) {
      // Not refreshed, and its lease is kept until it lapses: the next claim of it is a lease
      // length away, and a process that has the key can take it over from then on.
      this.stats.unreadable += 1
      const seen = `${connection.id} ${connection.unreadable.keyId}`
      if (!this.reported.has(seen)) {
        this.reported.add(seen)
        await this.keeper.unreadableClaimed?.(connection).catch(() => undefined)
      }
      return
    }
    try {
      await this.keeper.refreshClaimed(connection.id, lease)
      this.stats.refreshed += 1
    } catch (error) {
      if (isInnkeeperError(error) && error.code === 'needs_reauth') this.stats.needsReauth += 1
      else this.stats.failed += 1
    } finally {
      await this.store.releaseLease(lease).catch(() => false)
    }
  }

  /** Stops claiming, lets in-flight refreshes finish, and releases their leases. */
  async stop(): Promise<void> {
    await this.loop.stop()
    this.unobserve?.()
    this.unobserve = undefined
    this.slots.close()
  }
}
