// The `innkeeper serve` server: re-exports only.
export {
  API_KEYS_COLLECTION,
  type ApiKeyRecord,
  ApiKeyVerifier,
  createApiKey,
  hashApiKey,
  listApiKeys,
  revokeApiKey,
} from './api-keys.js'
export { redactUrl } from './logging.js'
export { createServer, type ServerOptions } from './server.js'
