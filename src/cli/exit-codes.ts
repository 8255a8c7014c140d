// Stable exit codes: scripts branch on these (issue 5). Each error code maps to one class.
import { type ErrorCode, isInnkeeperError } from '../errors.js'

export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  needsAuthorization: 3,
  providerRefused: 4,
  providerUnavailable: 5,
} as const

// Typed by the union, so a new error code without an exit code is a compile error.
const BY_CODE: Record<ErrorCode, number> = {
  invalid_config: EXIT.usage,
  insecure_url: EXIT.usage,
  unknown_provider: EXIT.usage,
  unknown_app: EXIT.usage,
  unknown_connection: EXIT.usage,
  unknown_webhook: EXIT.usage,
  invalid_state: EXIT.usage,
  forbidden_host: EXIT.usage,
  // A read-only command named a store that does not exist: the path or --store is wrong.
  store_not_found: EXIT.usage,
  forbidden_path: EXIT.usage,
  // A missing or wrong encryption key is configuration the user fixes.
  key_unavailable: EXIT.usage,
  decryption_failed: EXIT.usage,
  needs_reauth: EXIT.needsAuthorization,
  access_denied: EXIT.needsAuthorization,
  revoked: EXIT.needsAuthorization,
  invalid_client: EXIT.providerRefused,
  invalid_grant: EXIT.providerRefused,
  invalid_scope: EXIT.providerRefused,
  invalid_request: EXIT.providerRefused,
  unauthorized_client: EXIT.providerRefused,
  unsupported_grant_type: EXIT.providerRefused,
  insufficient_scope: EXIT.providerRefused,
  invalid_token: EXIT.providerRefused,
  http_error: EXIT.providerRefused,
  provider_unavailable: EXIT.providerUnavailable,
  provider_timeout: EXIT.providerUnavailable,
  response_too_large: EXIT.providerUnavailable,
  rate_limited: EXIT.providerUnavailable,
  invalid_response: EXIT.providerUnavailable,
  // Our own store or a concurrent writer failed: not the user's input, not the provider.
  conflict: EXIT.unexpected,
  store_unavailable: EXIT.unexpected,
  lock_timeout: EXIT.unexpected,
}

export function exitCodeFor(error: unknown): number {
  if (isInnkeeperError(error)) return BY_CODE[error.code]
  if (error && typeof error === 'object' && 'code' in error && String(error.code).startsWith('commander.')) {
    return EXIT.usage
  }
  return EXIT.unexpected
}
