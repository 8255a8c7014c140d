// Webhook receivers: `keeper.webhooks.add(url, { events })` (the secret is answered once and
// stored sealed with the store's keyring through the sealer the facade wires, AAD
// `webhook:<id>:secret`), `list()`, `remove(id)`, and the deliveries still waiting or dead.
// Receivers are documents in the store (collection `webhooks`).
import { randomBytes } from 'node:crypto'
import { ConfigError, InnkeeperError } from '../errors.js'
import { requireSecureUrl } from '../providers/endpoints.js'
import type { SecretSealer } from '../stores/kit/sealing.js'
import type { OutboxEntry, OutboxState } from '../stores/outbox.js'
import type { Store } from '../stores/store.js'
import {
  DEFAULT_WEBHOOK_EVENTS,
  isWebhookEventType,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from './events.js'

export const WEBHOOKS_COLLECTION = 'webhooks'

export function webhookSecretAad(id: string): string {
  return `webhook:${id}:secret`
}

/** A receiver as shown to people and programs: never its secret. */
export interface WebhookInfo {
  id: string
  url: string
  events: WebhookEventType[]
  createdAt: number
  /** Deliveries waiting (first attempt or retry) and given up after 24 hours. */
  pending: number
  dead: number
}

export interface AddedWebhook extends WebhookInfo {
  /** The signing secret, shown this once; verify deliveries with `verifyWebhook(body, header, secret)`. */
  secret: string
}

/** A receiver with its opened secret, for the dispatcher. */
export interface WebhookReceiver {
  id: string
  url: string
  events: WebhookEventType[]
  secret: string
}

export interface WebhookDelivery {
  id: string
  eventId: string
  receiverId: string
  type: string
  connection: string | null
  state: OutboxState
  attempts: number
  nextAttemptAt: number
  lastError: string | null
  createdAt: number
}

export class Webhooks {
  constructor(
    private readonly store: Store,
    /** Seals receivers' secrets with the keyring the store was opened with. */
    private readonly sealer: SecretSealer,
    private readonly now: () => number,
    /** Told after this process adds or removes a receiver (the outbox writer starts or drops its cache). */
    private readonly changed: () => void | Promise<void> = () => {},
    /** Whether receivers may be private addresses (operator's choice; see address-policy.ts). */
    private readonly allowPrivate: () => boolean = () => false,
  ) {}

  /**
   * Registers a receiver; answers its secret once. HTTPS only (plain HTTP on loopback, where private
   * receivers are allowed), on public addresses unless private receivers are allowed.
   */
  async add(url: string, options: { events?: readonly string[] } = {}): Promise<AddedWebhook> {
    const target = requireSecureUrl(url, 'webhook URL')
    // The address policy (and its IP address parser) is loaded only by a process that adds one.
    if (!this.allowPrivate()) await (await import('./address-policy.js')).checkReceiverAddress(target)
    const events = parseWebhookEvents(options.events)
    const id = `wh_${randomBytes(9).toString('base64url')}`
    const secret = `whsec_${randomBytes(32).toString('base64url')}`
    const createdAt = this.now()
    await this.store.putDocument(WEBHOOKS_COLLECTION, id, {
      url: target.href,
      events,
      secret: this.sealer.seal(secret, webhookSecretAad(id)),
      createdAt,
    })
    await this.changed()
    return { id, url: target.href, events, createdAt, pending: 0, dead: 0, secret }
  }

  async list(): Promise<WebhookInfo[]> {
    const [documents, entries] = await Promise.all([
      this.store.listDocuments(WEBHOOKS_COLLECTION),
      this.store.outbox.list({ limit: 10_000 }),
    ])
    return documents.map(({ id, value }) => ({
      id,
      url: String(value.url),
      events: (value.events as WebhookEventType[]) ?? [],
      createdAt: Number(value.createdAt),
      pending: entries.filter((entry) => entry.receiverId === id && entry.state === 'pending').length,
      dead: entries.filter((entry) => entry.receiverId === id && entry.state === 'dead').length,
    }))
  }

  /** Removes a receiver and every delivery still waiting for it. */
  async remove(id: string): Promise<void> {
    if (!(await this.store.deleteDocument(WEBHOOKS_COLLECTION, id))) throw unknownWebhook(id)
    await this.changed()
    await this.store.outbox.purge(id)
  }

  /** Deliveries waiting or dead (delivered ones are removed), oldest first. */
  async deliveries(
    filter: { receiverId?: string; state?: OutboxState; limit?: number } = {},
  ): Promise<WebhookDelivery[]> {
    return (await this.store.outbox.list(filter)).map(toDelivery)
  }

  /** Every receiver with its secret opened (for the dispatcher and the outbox writer). */
  async receivers(): Promise<WebhookReceiver[]> {
    const documents = await this.store.listDocuments(WEBHOOKS_COLLECTION)
    return documents.map(({ id, value }) => this.toReceiver(id, value))
  }

  async receiver(id: string): Promise<WebhookReceiver | null> {
    const value = await this.store.getDocument(WEBHOOKS_COLLECTION, id)
    return value ? this.toReceiver(id, value) : null
  }

  private toReceiver(id: string, value: Record<string, unknown>): WebhookReceiver {
    return {
      id,
      url: String(value.url),
      events: (value.events as WebhookEventType[]) ?? [],
      secret: this.sealer.open(String(value.secret), webhookSecretAad(id)),
    }
  }
}

/** The events a receiver asked for; the default set when none were named. */
export function parseWebhookEvents(events: readonly string[] | undefined): WebhookEventType[] {
  const names = (events ?? []).map((name) => name.trim()).filter(Boolean)
  if (names.length === 0) return [...DEFAULT_WEBHOOK_EVENTS]
  const unknown = names.filter((name) => !isWebhookEventType(name))
  if (unknown.length > 0) {
    throw new ConfigError(
      'invalid_config',
      `Unknown webhook event ${unknown.join(', ')}. Known events: ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
    )
  }
  return [...new Set(names)] as WebhookEventType[]
}

function toDelivery(entry: OutboxEntry): WebhookDelivery {
  let type = 'unknown'
  let connection: string | null = null
  try {
    const body = JSON.parse(entry.body) as { type?: string; connection?: { id?: string } }
    type = body.type ?? type
    connection = body.connection?.id ?? null
  } catch {
    // A body that is not JSON cannot come from the writer; show what is known.
  }
  return {
    id: entry.id,
    eventId: entry.eventId,
    receiverId: entry.receiverId,
    type,
    connection,
    state: entry.state,
    attempts: entry.attempts,
    nextAttemptAt: entry.nextAttemptAt,
    lastError: entry.lastError ?? null,
    createdAt: entry.createdAt,
  }
}

export function unknownWebhook(id: string): InnkeeperError {
  return new InnkeeperError(
    'unknown_webhook',
    `There is no webhook receiver "${id}". List them with \`innkeeper webhooks list\`.`,
  )
}
