// `innkeeper/client`: the typed client of `innkeeper serve` and the generated API types. Re-exports only.
export {
  type AccessToken,
  type AddedWebhook,
  type Connection,
  type ConnectionState,
  type ConnectSession,
  type ConnectSessionRequest,
  createClient,
  type ErrorBody,
  InnkeeperApiError,
  type InnkeeperClient,
  type InnkeeperClientOptions,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventType,
} from './client.js'
export type { components, operations, paths } from './schema.js'
