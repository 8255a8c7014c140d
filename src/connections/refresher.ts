// The background refresher behind `innkeeper worker`: claims connections whose tokens are due
// (the store picks them atomically, so several workers share the load and none is refreshed
// twice for one expiry), renews them under the claimed lease, and backs off on failures.
// Stopping finishes what is in flight and releases every lease it holds. A connection whose
// secrets this process cannot open (sealed with a key it lacks) is skipped, reported once per
// process and key, and its lease left to lapse, so it is looked at again once per lease, not in
// a tight loop, and never stops the others from being refreshed.

import { isInnkeeperError } from '../errors.js'
import type { ClaimedConnection, ConnectionRecord, Lease, Store } from '../stores/store.js'
import { PollingLoop } from './polling-loop.js'

/** What the refresher needs of the library: the clock, and a refresh under a claimed lease. */
export interface ClaimedRefresh {
  now(): number
  refreshClaimed(id: string, lease: Lease): Promise<unknown>
  /** Told (once per connection and key id) of a claimed record it could not open; never a secret. */
  unreadableClaimed?(record: ConnectionRecord): Promise<void>
}

export interface RefresherOptions {
  /** Connections claimed per round (default 50). */
  batchSize?: number
  /** Refreshes run at once (default 8). */
  concurrency?: number
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
}

export class BackgroundRefresher {
  readonly stats: RefresherStats = {
    claimed: 0,
    refreshed: 0,
    failed: 0,
    needsReauth: 0,
    unreadable: 0,
    rounds: 0,
  }
  private readonly loop: PollingLoop
  /** `<connection id> <key id>` of unreadable records already reported by this process. */
  private readonly reported = new Set<string>()
  private readonly options: Required<RefresherOptions>

  constructor(
    private readonly keeper: ClaimedRefresh,
    private readonly store: Store,
    private readonly owner: string,
    options: RefresherOptions = {},
  ) {
    this.options = {
      batchSize: 50,
      concurrency: 8,
      idleMs: 1_000,
      leaseMs: 60_000,
      lookAheadMs: 0,
      ...options,
    }
    this.loop = new PollingLoop(() => this.runOnce(), this.options.batchSize, this.options.idleMs)
  }

  start(): void {
    this.loop.start()
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
    let next = 0
    const workers = Array.from({ length: Math.min(this.options.concurrency, claimed.length) }, async () => {
      while (next < claimed.length) await this.refreshOne(claimed[next++]!)
    })
    await Promise.all(workers)
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
  }
}
