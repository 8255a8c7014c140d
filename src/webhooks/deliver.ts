// One delivery attempt of a claimed outbox entry, for the dispatcher: POSTs the signed body to
// its receiver, then completes the entry, or schedules its retry with exponential backoff and
// jitter, or (24 hours after the event) marks it dead. Loaded by the dispatcher on its first
// claimed entry, so opening the library loads no HTTP posting code.
import type { OutboxEntry } from '../stores/outbox.js'
import type { Store } from '../stores/store.js'
import { WebhookPoster } from './post.js'
import type { Webhooks } from './receivers.js'
import { SIGNATURE_HEADER, signWebhook } from './signature.js'

export interface DeliveryTiming {
  timeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  maxAgeMs: number
  allowPrivateAddresses: boolean
}

/** What became of an entry: delivered, to be retried, given up, or its receiver is gone. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dead' | 'gone'

/** Delay before attempt `attempts + 1`: exponential, capped, and jittered to 50–100 %. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 30))
  return Math.round(exponential / 2 + random() * (exponential / 2))
}

export class OutboxDeliverer {
  private readonly poster = new WebhookPoster()

  constructor(
    private readonly store: Store,
    private readonly webhooks: Webhooks,
    private readonly now: () => number,
    /** The dispatcher's lease owner id (a failed entry is released under it). */
    private readonly owner: string,
    private readonly timing: DeliveryTiming,
  ) {}

  async deliver(entry: OutboxEntry): Promise<DeliveryOutcome> {
    const receiver = await this.webhooks.receiver(entry.receiverId)
    if (!receiver) {
      await this.store.outbox.complete(entry.id) // the receiver was removed meanwhile
      return 'gone'
    }
    const outcome = await this.poster.post(receiver.url, {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Innkeeper-Webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(entry.body, receiver.secret, this.now()),
        'Innkeeper-Event-Id': entry.eventId,
      },
      body: entry.body,
      timeoutMs: this.timing.timeoutMs,
      allowPrivateAddresses: this.timing.allowPrivateAddresses,
    })
    if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) {
      await this.store.outbox.complete(entry.id)
      return 'delivered'
    }
    const problem = 'status' in outcome ? `HTTP ${outcome.status}` : outcome.failure
    const now = this.now()
    const next = now + retryDelayMs(entry.attempts, this.timing.retryBaseMs, this.timing.retryMaxMs)
    const dead = next - entry.createdAt > this.timing.maxAgeMs
    await this.store.outbox.fail(entry.id, this.owner, dead ? null : next, problem).catch(() => false)
    return dead ? 'dead' : 'failed'
  }

  /** Closes the keep-alive connections to receivers. */
  close(): void {
    this.poster.close()
  }
}
