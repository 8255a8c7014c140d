// The webhook part of the facade, started only as far as it is used. The outbox writer (which
// turns connection events into outbox entries) is loaded on the first connection change or when
// this process adds or removes a receiver; a dispatcher runs only where `startWebhookDispatcher`
// is called (`innkeeper worker`, `innkeeper serve`). A process that only reads tokens does
// neither: it loads no webhook delivery code and reads no receivers.
import type { EventOutbox, WrittenEvent } from '../connections/context.js'
import type { ConnectionInfo } from '../model/connection.js'
import type { InnkeeperEvents } from '../model/events.js'
import type { SecretSealer } from '../stores/kit/sealing.js'
import type { OutboxEntryInput } from '../stores/outbox.js'
import type { Store } from '../stores/store.js'
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../webhooks/dispatcher.js'
import type { OutboxWriter } from '../webhooks/outbox-writer.js'
import { Webhooks } from '../webhooks/receivers.js'

/** What of the webhook machinery this process has started (for monitoring and tests). */
export interface WebhookActivity {
  /** The outbox writer is loaded and follows connection events. */
  outbox: boolean
  /** Dispatchers delivering from the outbox, started by this process and not stopped. */
  dispatchers: number
}

export class WebhookWiring implements EventOutbox {
  readonly webhooks: Webhooks
  private writer: OutboxWriter | undefined
  private loading: Promise<OutboxWriter> | undefined
  /** Events heard before the writer was loaded, handed to it in order. */
  private heard: Promise<void> = Promise.resolve()
  private queued = 0
  private readonly dispatchers = new Set<WebhookDispatcher>()

  constructor(
    private readonly store: Store,
    sealer: SecretSealer,
    private readonly now: () => number,
    events: InnkeeperEvents,
    private readonly allowPrivate: () => boolean,
  ) {
    this.webhooks = new Webhooks(store, sealer, now, () => this.receiversChanged(), allowPrivate)
    // Events no write carried (see OutboxWriter) still reach the outbox: the listeners stay
    // cheap until an event arrives.
    for (const name of ['connected', 'needs_reauth', 'recovered', 'failed', 'refreshed'] as const) {
      events.on(name, (info) => this.hear(name, info))
    }
    events.on('disconnected', (info, details) => {
      if (details?.revoked) this.hear('revoked', info)
      this.hear('disconnected', info)
    })
  }

  get activity(): WebhookActivity {
    for (const dispatcher of this.dispatchers) if (!dispatcher.isRunning) this.dispatchers.delete(dispatcher)
    return { outbox: this.writer !== undefined, dispatchers: this.dispatchers.size }
  }

  async entriesFor(
    events: ReadonlyArray<WrittenEvent>,
    connection: ConnectionInfo,
  ): Promise<OutboxEntryInput[]> {
    return (await this.startOutbox()).entriesFor(events, connection)
  }

  committed(events: ReadonlyArray<WrittenEvent>, id: string): void {
    // `entriesFor` loaded the writer before the save that carried these events.
    this.writer?.committed(events, id)
  }

  /** Starts delivering webhooks from the store's outbox (see WebhookDispatcher). */
  startDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
    const dispatcher = new WebhookDispatcher(this.store, this.webhooks, this.now, {
      allowPrivateAddresses: this.allowPrivate(),
      ...options,
    })
    this.dispatchers.add(dispatcher)
    return dispatcher.start()
  }

  /** Resolves once every event heard so far is in the outbox (or failed to get there). */
  async flush(): Promise<void> {
    await this.heard
    await this.writer?.flush()
  }

  private hear(name: WrittenEvent, info: ConnectionInfo): void {
    if (this.writer && this.queued === 0) {
      this.writer.heard(name, info)
      return
    }
    this.queued += 1
    this.heard = this.heard.then(async () => {
      const writer = await this.startOutbox()
      this.queued -= 1
      writer.heard(name, info)
    })
  }

  private async receiversChanged(): Promise<void> {
    ;(await this.startOutbox()).invalidate()
  }

  private startOutbox(): Promise<OutboxWriter> {
    this.loading ??= import('../webhooks/outbox-writer.js').then(({ OutboxWriter }) => {
      this.writer = new OutboxWriter(this.store, this.now)
      return this.writer
    })
    return this.loading
  }
}
