// Webhooks: receivers, signed deliveries from a durable outbox, and verification. Re-exports only.
export { WebhookDispatcher, type WebhookDispatcherOptions } from './dispatcher.js'
export {
  DEFAULT_WEBHOOK_EVENTS,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventType,
} from './events.js'
export { OutboxWriter } from './outbox-writer.js'
export { type AddedWebhook, type WebhookDelivery, type WebhookInfo, Webhooks } from './receivers.js'
export {
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WebhookVerificationError,
} from './signature.js'
