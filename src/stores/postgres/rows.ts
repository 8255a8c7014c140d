// PostgreSQL rows to records: columns (snake_case; BIGINT arrives as a string) to the codec's
// encoded records, which the codec opens with the keyring; leases and audit entries directly.

import type { Keyring } from '../../crypto/keyring.js'
import {
  decodeApp,
  decodeConnection,
  decodePendingAuthorization,
  type EncodedApp,
  type EncodedConnection,
  type EncodedPendingAuthorization,
} from '../codec.js'
import type { AppRecord, AuditEntry, ConnectionRecord, Lease, PendingAuthorization } from '../store.js'

type Row = Record<string, unknown>

export function appFromRow(keyring: Keyring, row: Row): AppRecord {
  return decodeApp(keyring, {
    name: row.name,
    provider: row.provider,
    clientId: row.client_id,
    clientSecret: row.client_secret,
    keyId: row.key_id,
    redirectUri: row.redirect_uri,
    scopes: row.scopes,
    settings: row.settings,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  } as EncodedApp)
}

/** `tolerant`: a record whose secrets cannot be opened comes back marked `unreadable`. */
export function connectionFromRow(
  keyring: Keyring,
  row: Row,
  options: { tolerant?: boolean } = {},
): ConnectionRecord {
  return decodeConnection(
    keyring,
    {
      id: row.id,
      app: row.app,
      name: row.name,
      state: row.state,
      secrets: row.secrets,
      keyId: row.key_id,
      scopes: row.scopes,
      metadata: row.metadata,
      lastError: row.last_error,
      failures: row.failures,
      refreshDueAt: row.refresh_due_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastRefreshAt: row.last_refresh_at,
      version: row.version,
    } as EncodedConnection,
    options,
  )
}

export function pendingFromRow(keyring: Keyring, row: Row): PendingAuthorization {
  return decodePendingAuthorization(keyring, {
    state: row.state,
    app: row.app,
    name: row.name,
    redirectUri: row.redirect_uri,
    scopes: row.scopes,
    codeVerifier: row.code_verifier,
    keyId: row.key_id,
    options: row.options,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  } as EncodedPendingAuthorization)
}

export function leaseFromRow(row: Row): Lease {
  return {
    key: String(row.key),
    owner: String(row.owner),
    fencingToken: Number(row.fencing_token),
    expiresAt: Number(row.expires_at),
  }
}

export function auditEntryFromRow(row: Row): AuditEntry {
  const entry: AuditEntry = {
    id: String(row.id),
    at: Number(row.at),
    actor: String(row.actor),
    action: String(row.action),
    outcome: row.outcome as AuditEntry['outcome'],
  }
  if (row.connection !== null) entry.connection = String(row.connection)
  if (row.detail !== null) entry.detail = row.detail as AuditEntry['detail']
  return entry
}
