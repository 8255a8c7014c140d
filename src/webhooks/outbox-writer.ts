// Turns the library's connection events into outbox entries: one per receiver subscribed to the
// event's type. Every event is written WITH the change that causes it (`entriesFor` before the
// write, then `Store.saveConnection(…, outbox)` or `Store.deleteConnection(…, outbox)` in one
// atomic write), so a crash at any point loses none of them. `heard` enqueues only events no
// write carried (`record`, e.g. a disconnect whose connection another process deleted).
import { randomUUID } from 'node:crypto'
import type { WrittenEvent } from '../connections/context.js'
import { isInnkeeperError } from '../errors.js'
import type { ConnectionInfo } from '../model/connection.js'
import type { OutboxEntryInput } from '../stores/outbox.js'
import type { Store } from '../stores/store.js'
import type { WebhookEvent, WebhookEventType } from './events.js'
import { WEBHOOKS_COLLECTION } from './receivers.js'

/**
 * How long the list of receivers is reused between events. Changes made by this process apply at
 * once; a receiver added by another process starts receiving events within this time.
 */
export const RECEIVERS_CACHE_MS = 5_000

/** Library events written with their change (see `entriesFor`). */
export type TransactionalEvent = WrittenEvent

const WEBHOOK_TYPE: Record<TransactionalEvent, WebhookEventType> = {
  connected: 'connection.created',
  refreshed: 'connection.refreshed',
  recovered: 'connection.recovered',
  needs_reauth: 'connection.needs_reauth',
  failed: 'connection.error',
  revoked: 'connection.revoked',
  disconnected: 'connection.deleted',
}

export class OutboxWriter {
  private queue: Promise<void> = Promise.resolve()
  /** Events already in the outbox with their change: the listener skips them once. */
  private readonly alreadyWritten = new Map<string, number>()
  private receivers: { at: number; list: Array<{ id: string; value: Record<string, unknown> }> } | undefined
  /** Enqueues that failed (the store was unreachable); the events are lost, the process goes on. */
  failures = 0
  lastFailure: string | undefined

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** Queues one event for every receiver subscribed to its type. */
  record(type: WebhookEventType, connection: ConnectionInfo): void {
    const createdAt = this.now()
    const event = this.event(type, connection, createdAt)
    this.queue = this.queue.then(() =>
      this.enqueue(event, createdAt).catch((error: unknown) => {
        this.failures += 1
        this.lastFailure = isInnkeeperError(error) ? error.code : 'unexpected'
      }),
    )
  }

  private event(type: WebhookEventType, connection: ConnectionInfo, createdAt = this.now()): WebhookEvent {
    return {
      id: `evt_${createdAt.toString(36)}_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      type,
      createdAt: new Date(createdAt).toISOString(),
      connection,
    }
  }

  /**
   * The outbox entries of `events` about to be caused by one save of `connection`, to hand to
   * `Store.saveConnection(…, outbox)`; after the save succeeded, call `committed` with the same
   * events so the listener does not enqueue them a second time.
   */
  async entriesFor(
    events: readonly TransactionalEvent[],
    connection: ConnectionInfo,
  ): Promise<OutboxEntryInput[]> {
    const createdAt = this.now()
    const receivers = await this.currentReceivers(createdAt)
    // No receiver, no entry: the events (an id, a date, the connection's copy) are not even built.
    if (receivers.length === 0) return []
    return events.flatMap((name) =>
      this.entries(this.event(WEBHOOK_TYPE[name], connection, createdAt), createdAt, receivers),
    )
  }

  /** The save that carried `events` for connection `id` committed: their listener calls are skipped. */
  committed(events: readonly TransactionalEvent[], id: string): void {
    for (const name of events) {
      const key = `${name}|${id}`
      this.alreadyWritten.set(key, (this.alreadyWritten.get(key) ?? 0) + 1)
    }
  }

  /**
   * A library event was emitted (the facade's webhook wiring listens): queued unless the write
   * that caused it carried it already (`committed`).
   */
  heard(name: TransactionalEvent, connection: ConnectionInfo): void {
    const key = `${name}|${connection.id}`
    const pending = this.alreadyWritten.get(key) ?? 0
    if (pending > 0) {
      if (pending === 1) this.alreadyWritten.delete(key)
      else this.alreadyWritten.set(key, pending - 1)
      return
    }
    this.record(WEBHOOK_TYPE[name], connection)
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
    const entries = this.entries(event, createdAt, await this.currentReceivers(createdAt))
    if (entries.length > 0) await this.store.outbox.enqueue(entries)
  }

  private entries(
    event: WebhookEvent,
    createdAt: number,
    receivers: Array<{ id: string; value: Record<string, unknown> }>,
  ): OutboxEntryInput[] {
    const body = JSON.stringify(event)
    return receivers
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
  }

  private async currentReceivers(now: number) {
    if (!this.receivers || now - this.receivers.at > RECEIVERS_CACHE_MS || now < this.receivers.at) {
      this.receivers = { at: now, list: await this.store.listDocuments(WEBHOOKS_COLLECTION) }
    }
    return this.receivers.list
  }
}
