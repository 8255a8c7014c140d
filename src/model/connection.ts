// A connection as every layer sees it: its states, its last error, and the public view (never a
// token) that the CLI, the service, events, audit and webhooks share.

/** Stored states; `expiring` and `refreshing` are derived when a connection is shown. */
export type StoredConnectionState = 'active' | 'needs_reauth' | 'error' | 'revoked'
/** `key_unavailable`: listed, but its secrets are sealed with a key this process does not have. */
export type ConnectionState = StoredConnectionState | 'expiring' | 'refreshing' | 'key_unavailable'

export interface ConnectionError {
  code: string
  message: string
  at: number
  /** When the current run of failures began (kept across failures, cleared by a success). */
  since?: number
  /** The failures outlasted the failure window: no more automatic retries until a manual refresh. */
  final?: boolean
}

export interface ConnectionInfo {
  id: string
  app: string
  name: string
  provider: string
  state: ConnectionState
  scopes: string[]
  metadata: Record<string, unknown>
  accessTokenExpiresAt: number | null
  refreshTokenExpiresAt: number | null
  hasRefreshToken: boolean
  lastRefreshAt: number | null
  refreshDueAt: number | null
  lastError: ConnectionError | null
  createdAt: number
  updatedAt: number
}
