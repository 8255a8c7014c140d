// Every failure Innkeeper reports: one base class with a stable `code`, a sentence that tells the
// user what to do, the HTTP status where HTTP is involved, and never a secret.

export type ErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'needs_reauth'
  | 'provider_unavailable'
  | 'rate_limited'
  | 'invalid_response'
  | 'invalid_state'
  | 'unknown_provider'
  | 'invalid_config'
  | 'unknown_app'
  | 'unknown_connection'
  | 'unknown_webhook'
  | 'conflict'
  | 'forbidden_host'
  | 'forbidden_path'
  | 'insecure_url'
  | 'store_unavailable'
  | 'key_unavailable'
  | 'decryption_failed'
  | 'http_error'
  | 'lock_timeout'
  | 'revoked'
  | 'provider_timeout'
  | 'store_not_found'
  | 'response_too_large'

export interface InnkeeperErrorOptions {
  status?: number
  cause?: unknown
  /** Extra public fields (never secrets) a caller can act on, e.g. `{ scope: 'rentals_write' }`. */
  details?: Record<string, unknown>
}

export class InnkeeperError extends Error {
  readonly code: ErrorCode
  readonly status: number | undefined
  readonly details: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: InnkeeperErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = options.status
    this.details = options.details ?? {}
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, status: this.status, ...this.details }
  }
}

/** The provider's token endpoint refused a request (RFC 6749 §5.2) or answered something that is not a token. */
export class TokenEndpointError extends InnkeeperError {}

/** A call to the provider's API was refused (RFC 6750 or the platform's own error body). */
export class ApiError extends InnkeeperError {}

/** A person must authorize the app again: the grant is gone. */
export class NeedsReauthError extends InnkeeperError {
  constructor(message: string, options: InnkeeperErrorOptions = {}) {
    super('needs_reauth', message, options)
  }
}

/** Configuration given by the user is incomplete or wrong. */
export class ConfigError extends InnkeeperError {}

/** The store could not be reached or refused an operation. */
export class StoreError extends InnkeeperError {}

/** Encryption keys are missing, or a ciphertext cannot be opened. */
export class CryptoError extends InnkeeperError {}

export function isInnkeeperError(value: unknown): value is InnkeeperError {
  return value instanceof InnkeeperError
}

/** Errors worth retrying with backoff: the provider or the network failed, nothing was refused. */
export function isTransient(error: unknown): boolean {
  return isInnkeeperError(error) && (error.code === 'provider_unavailable' || error.code === 'rate_limited')
}
