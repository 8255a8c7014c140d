// The webhook dispatcher behind `innkeeper worker`, `innkeeper serve` and
// `keeper.startWebhookDispatcher()`: claims due outbox entries with a lease (so many dispatchers
// share the work and an entry whose dispatcher died is taken over when the lease lapses), POSTs
// each signed body (`deliver.ts`), and on failure schedules a retry with exponential backoff and jitter, for up
// to 24 hours after the event, then marks the entry dead. At least once: a receiver may see an
// event twice (deduplicate by its id), never event N+1 of a connection before N was accepted.

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { PollingLoop } from '../connections/polling-loop.js'
import type { Store } from '../stores/store.js'
import type { OutboxDeliverer } from './deliver.js'
import type { Webhooks } from './receivers.js'

export interface WebhookDispatcherOptions {
  /** Entries claimed per round (default 20). */
  batchSize?: number
  /** How long a claim lasts before another dispatcher may take the entry (default 60 s). */
  leaseMs?: number
  /** Pause between rounds when nothing was due (default 1 s). */
  idleMs?: number
  /** One delivery's time limit (default 10 s). */
  timeoutMs?: number
  /** First retry delay; doubles each attempt, with jitter (default 10 s). */
  retryBaseMs?: number
  /** Longest delay between attempts (default 1 h). */
  retryMaxMs?: number
  /** After this long since the event, a failing delivery is dead (default 24 h). */
  maxAgeMs?: number
  /**
   * Deliver to private, loopback, link-local and metadata addresses too (default: the keeper's
   * `allowPrivateWebhooks`, else off). Checked for every connection, after DNS resolution.
   */
  allowPrivateAddresses?: boolean
}

export interface WebhookDispatcherStats {
  delivered: number
  failed: number
  dead: number
  rounds: number
}

export class WebhookDispatcher {
  readonly stats: WebhookDispatcherStats = { delivered: 0, failed: 0, dead: 0, rounds: 0 }
  readonly owner = `${hostname()}:${process.pid}:webhooks:${randomUUID().slice(0, 8)}`
  private readonly options: Required<WebhookDispatcherOptions>
  private readonly loop: PollingLoop
  /** Loaded on the first round that claims an entry: a dispatcher with nothing to do posts nothing. */
  private deliverer: Promise<OutboxDeliverer> | undefined

  constructor(
    private readonly store: Store,
    private readonly webhooks: Webhooks,
    private readonly now: () => number,
    options: WebhookDispatcherOptions = {},
  ) {
    this.options = {
      batchSize: 20,
      leaseMs: 60_000,
      idleMs: 1_000,
      timeoutMs: 10_000,
      retryBaseMs: 10_000,
      retryMaxMs: 60 * 60_000,
      maxAgeMs: 24 * 60 * 60_000,
      allowPrivateAddresses: false,
      ...options,
    }
    this.loop = new PollingLoop(() => this.runOnce(), this.options.batchSize, this.options.idleMs)
  }

  start(): this {
    this.loop.start()
    return this
  }

  get isRunning(): boolean {
    return this.loop.isRunning
  }

  /** One round: claim what is due and deliver it; resolves to how many entries were claimed. */
  async runOnce(): Promise<number> {
    const claimed = await this.store.outbox.claim(
      this.now(),
      this.options.batchSize,
      this.owner,
      this.options.leaseMs,
    )
    this.stats.rounds += 1
    if (claimed.length === 0) return 0
    this.deliverer ??= import('./deliver.js').then(
      ({ OutboxDeliverer }) =>
        new OutboxDeliverer(this.store, this.webhooks, this.now, this.owner, this.options),
    )
    const deliverer = await this.deliverer
    // Claimed entries are heads of distinct ordering keys, so they may go out in parallel.
    await Promise.all(
      claimed.map(async (entry) => {
        const outcome = await deliverer.deliver(entry)
        if (outcome !== 'gone') this.stats[outcome] += 1
      }),
    )
    return claimed.length
  }

  /** Stops claiming and lets deliveries in flight finish. */
  async stop(): Promise<void> {
    await this.loop.stop()
    if (this.deliverer) (await this.deliverer).close()
  }
}
