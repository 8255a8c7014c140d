// How failures leave the server: an HTTP status per error code, and the JSON body
// `{ error: { code, message } }`. Messages of InnkeeperError are safe by construction; anything
// else becomes a generic 500 (the details go to the log only).
import { type ErrorCode, isInnkeeperError } from '../errors.js'

/** Codes only the server answers with: a missing or wrong operator key, an unknown route. */
type ServerOnlyCode = 'unauthorized' | 'not_found'

// Typed by the union, so a new error code without a status is a compile error.
const STATUS_BY_CODE: Record<ErrorCode | ServerOnlyCode, number> = {
  invalid_request: 400,
  invalid_config: 400,
  invalid_state: 400,
  invalid_scope: 400,
  access_denied: 400,
  forbidden_host: 400,
  forbidden_path: 400,
  insecure_url: 400,
  unknown_provider: 400,
  unauthorized: 401,
  insufficient_scope: 403,
  unknown_app: 404,
  unknown_connection: 404,
  unknown_webhook: 404,
  not_found: 404,
  needs_reauth: 409,
  revoked: 409,
  invalid_grant: 409,
  conflict: 409,
  rate_limited: 429,
  // The platform refused or answered nonsense: a bad gateway from the caller's point of view.
  invalid_client: 502,
  unauthorized_client: 502,
  unsupported_grant_type: 502,
  invalid_token: 502,
  invalid_response: 502,
  http_error: 502,
  response_too_large: 502,
  provider_unavailable: 503,
  provider_timeout: 504,
  store_unavailable: 503,
  store_not_found: 503,
  lock_timeout: 503,
  key_unavailable: 500,
  decryption_failed: 500,
}

export interface ErrorBody {
  error: { code: string; message: string }
}

/** A failure the server itself raises (auth, routing), shaped like InnkeeperError. */
export class ServerError extends Error {
  constructor(
    readonly code: ErrorCode | ServerOnlyCode,
    message: string,
    readonly status: number = STATUS_BY_CODE[code],
  ) {
    super(message)
    this.name = 'ServerError'
  }
}

export function statusFor(error: unknown): number {
  if (error instanceof ServerError) return error.status
  if (isInnkeeperError(error)) {
    // The provider's own 429 must not read as our rate limit on the caller.
    if (error.code === 'rate_limited') return 503
    return STATUS_BY_CODE[error.code]
  }
  const status = (error as { statusCode?: unknown })?.statusCode
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}

export function errorBody(error: unknown): ErrorBody {
  if (error instanceof ServerError || isInnkeeperError(error)) {
    return { error: { code: error.code, message: error.message } }
  }
  const status = statusFor(error)
  if (status === 429) {
    return { error: { code: 'rate_limited', message: 'Too many requests. Wait a minute and try again.' } }
  }
  const code = (error as { code?: unknown })?.code
  if (status < 500 && typeof code === 'string' && code.startsWith('FST_')) {
    return { error: { code: 'invalid_request', message: (error as Error).message } }
  }
  if (status === 404) return { error: { code: 'not_found', message: 'No such route.' } }
  return {
    error: { code: 'internal_error', message: 'Innkeeper failed unexpectedly; the log has the details.' },
  }
}
