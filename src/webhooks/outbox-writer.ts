// Turns the library's connection events into outbox entries: one per receiver subscribed to the
// event's type, enqueued in the store right after the change was committed (the event is emitted
// in the same code path, after the commit). Enqueues run one after another in emit order, so
// the outbox order per connection is the order things happened in this process.
// Remaining window: if the process dies between a commit and its enqueue (one store write), that
// event is lost; `close()` waits for enqueues in flight (docs/webhooks.md).
import { randomUUID } from 'node:crypto'
import type { InnkeeperEvents } from '../connections/events.js'
import type { ConnectionInfo } from '../connections/view.js'
import type { OutboxEntryInput } from '../stores/outbox.js'
import type { Store } from '../stores/store.js'
import type { WebhookEvent, WebhookEventType } from './events.js'
import { WEBHOOKS_COLLECTION } from './receivers.js'

/**
 * How long the list of receivers is reused between events. Changes made by this process apply at
 * once; a receiver added by another process starts receiving events within this time.
 */
export const RECEIVERS_CACHE_MS = 5_000

export class OutboxWriter {
  private queue: Promise<void> = Promise.resolve()
  private receivers: { at: number; list: Array<{ id: string; value: Record<string, unknown> }> } | undefined
  /** Enqueues that failed (the store was unreachable); the events are lost, the process goes on. */
  failures = 0
  lastFailure: string | undefined

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** Subscribes to the library's events. */
  attach(events: InnkeeperEvents): void {
    events.on('connected', (info) => this.record('connection.created', info))
    events.on('needs_reauth', (info) => this.record('connection.needs_reauth', info))
    events.on('recovered', (info) => this.record('connection.recovered', info))
    events.on('failed', (info) => this.record('connection.error', info))
    events.on('refreshed', (info) => this.record('connection.refreshed', info))
    events.on('disconnected', (info, details) => {
      if (details?.revoked) this.record('connection.revoked', info)
      this.record('connection.deleted', info)
    })
  }

  /** Queues one event for every receiver subscribed to its type. */
  record(type: WebhookEventType, connection: ConnectionInfo): void {
    const createdAt = this.now()
    const event: WebhookEvent = {
      id: `evt_${createdAt.toString(36)}_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      type,
      createdAt: new Date(createdAt).toISOString(),
      connection,
    }
    this.queue = this.queue.then(() =>
      this.enqueue(event, createdAt).catch((error: unknown) => {
        this.failures += 1
        this.lastFailure = (error as { code?: string })?.code ?? 'unexpected'
      }),
    )
  }

  /** Forgets the cached receivers (this process added or removed one). */
  invalidate(): void {
    this.receivers = undefined
  }

  /** Resolves once every event recorded so far is in the outbox (or failed to get there). */
  flush(): Promise<void> {
    return this.queue
  }

  private async enqueue(event: WebhookEvent, createdAt: number): Promise<void> {
    const receivers = await this.currentReceivers(createdAt)
    const body = JSON.stringify(event)
    const entries: OutboxEntryInput[] = receivers
      .filter(({ value }) => Array.isArray(value.events) && value.events.includes(event.type))
      .map(({ id }) => ({
        id: `${event.id}.${id}`,
        eventId: event.id,
        receiverId: id,
        orderingKey: `${id}|${event.connection.id}`,
        body,
        createdAt,
        nextAttemptAt: createdAt,
      }))
    if (entries.length > 0) await this.store.outbox.enqueue(entries)
  }

  private async currentReceivers(now: number) {
    if (!this.receivers || now - this.receivers.at > RECEIVERS_CACHE_MS || now < this.receivers.at) {
      this.receivers = { at: now, list: await this.store.listDocuments(WEBHOOKS_COLLECTION) }
    }
    return this.receivers.list
  }
}
