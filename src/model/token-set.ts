// The one token-set type every platform's answer is normalised into. Times are absolute
// (milliseconds since the epoch) so a stored set needs no "when was this fetched" context.

export interface TokenSet {
  /** Absent only while a provider has issued a refresh token alone (bookingtime's first step). */
  accessToken?: string
  /** Normalised to "Bearer" whatever case the provider used. */
  tokenType: string
  /** When the access token stops working; undefined when the provider gave no lifetime. */
  expiresAt?: number
  refreshToken?: string
  /** When the refresh token stops working, for providers whose refresh tokens expire. */
  refreshTokenExpiresAt?: number
  /** Scopes the provider granted, when it said. */
  scope?: string[]
  /** When the answer was received. */
  obtainedAt: number
}
