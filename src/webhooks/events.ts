// The webhook events Innkeeper sends, which of the library's connection events raise them, and
// the delivery body: `{ id, type, createdAt, connection }` where `connection` is the public
// ConnectionInfo (never a token).
import type { ConnectionInfo } from '../model/connection.js'

export const WEBHOOK_EVENT_TYPES = [
  'connection.created',
  'connection.needs_reauth',
  'connection.recovered',
  'connection.error',
  'connection.revoked',
  'connection.deleted',
  'connection.refreshed',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** What a receiver gets when it does not say: everything except the frequent `connection.refreshed`. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES.filter(
  (type) => type !== 'connection.refreshed',
)

/** The JSON body of one delivery. */
export interface WebhookEvent {
  /** Unique per event (the same for every receiver); receivers deduplicate by it. */
  id: string
  type: WebhookEventType
  /** When it happened, ISO 8601. */
  createdAt: string
  connection: ConnectionInfo
}

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value)
}
