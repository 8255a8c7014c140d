// The public view of a connection: what the CLI, the service and event listeners see.
// Never a token; the state includes the derived `expiring` and `refreshing`.
import type { ConnectionError, ConnectionInfo, ConnectionState } from '../model/connection.js'
import type { ConnectionRecord } from '../stores/store.js'
import { isAccessTokenFresh } from './refresh-policy.js'

export function connectionState(record: ConnectionRecord, now: number, leased: boolean): ConnectionState {
  if (record.unreadable) return 'key_unavailable'
  if (record.state !== 'active') return record.state
  if (leased) return 'refreshing'
  if (isAccessTokenFresh(record.tokens, now)) return 'active'
  // Due or already expired: the next call renews it, so it is `expiring` rather than broken.
  return 'expiring'
}

export function toConnectionInfo(
  record: ConnectionRecord,
  provider: string,
  now: number,
  leased = false,
): ConnectionInfo {
  return {
    id: record.id,
    app: record.app,
    name: record.name,
    provider,
    state: connectionState(record, now, leased),
    scopes: [...record.scopes],
    metadata: structuredClone(record.metadata),
    accessTokenExpiresAt: record.tokens?.expiresAt ?? null,
    refreshTokenExpiresAt: record.tokens?.refreshTokenExpiresAt ?? null,
    hasRefreshToken: Boolean(record.tokens?.refreshToken),
    lastRefreshAt: record.lastRefreshAt ?? null,
    refreshDueAt: record.refreshDueAt ?? null,
    lastError: record.unreadable ? unreadableError(record) : (record.lastError ?? null),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  }
}

/** What a listing says about a connection whose secrets this process cannot open. */
function unreadableError(record: ConnectionRecord): ConnectionError {
  const { code, keyId } = record.unreadable!
  const message =
    code === 'key_unavailable'
      ? `Its secrets are sealed with key '${keyId}', which this process does not have. Restore that key (the key file from backup, or INNKEEPER_KEYS).`
      : `Its secrets (key '${keyId}') could not be opened: the record is damaged or the key is wrong. Restore the key or connect again.`
  return { code, message, at: record.updatedAt }
}
