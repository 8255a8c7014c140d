// An RFC 6749 §5.2 error as the emulated token endpoints and consent page answer it.

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'

export class OAuthError extends Error {
  readonly status: number

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(description)
    this.status = options.status ?? (error === 'invalid_client' ? 401 : 400)
    this.headers = options.headers ?? {}
  }

  readonly headers: Record<string, string>

  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description }
  }
}
