// innkeeper: the public library API. Re-exports only.

export { AppClient, type PublicRequestInit } from './connections/app-client.js'
export type { AppInfo, AppInput } from './connections/apps.js'
export type { AuthorizationResponse, AuthorizationStart } from './connections/authorization-flow.js'
export type { ConnectOptions } from './connections/connect-request.js'
export { type AccessTokenInfo, Connection } from './connections/connection.js'
export { normaliseConnectionId } from './connections/connection-id.js'
export {
  ApiError,
  ConfigError,
  CryptoError,
  type ErrorCode,
  InnkeeperError,
  isInnkeeperError,
  NeedsReauthError,
  StoreError,
  TokenEndpointError,
} from './errors.js'
export type { ApiRequestInit } from './http/client.js'
export {
  type CompletedConnect,
  Innkeeper,
  type InnkeeperOptions,
  type PendingConnect,
} from './innkeeper.js'
export type { ConnectionInfo, ConnectionState } from './model/connection.js'
export type {
  DisconnectDetails,
  InnkeeperEventMap,
  InnkeeperEventName,
  UnreadableDetails,
} from './model/events.js'
export type { TokenSet } from './model/token-set.js'
export {
  defineProvider,
  getProvider,
  listProviders,
  ProviderCatalogue,
  type ProviderDefinition,
  type ProviderDefinitionInput,
  type ProviderOverride,
  registerProvider,
} from './providers/index.js'
export type { AppRecord, ConnectionRecord, Store } from './stores/store.js'
export {
  type AddedWebhook,
  DEFAULT_WEBHOOK_EVENTS,
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WEBHOOK_EVENT_TYPES,
  type WebhookDelivery,
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookInfo,
  Webhooks,
  WebhookVerificationError,
} from './webhooks/index.js'
