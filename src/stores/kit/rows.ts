// Rows to records for the two SQL drivers. SQLite and PostgreSQL name every table and column the
// same (each driver's migrations.ts), so one mapping serves both; a driver says only how its JSON
// columns arrive: `text` (SQLite TEXT) or `parsed` (PostgreSQL JSONB). Numbers may arrive as
// strings (PostgreSQL BIGINT): the codec's decoders and `Number` here make them numbers.

import type { Keyring } from '../../crypto/keyring.js'
import {
  decodeApp,
  decodeConnection,
  decodePendingAuthorization,
  type EncodedApp,
  type EncodedConnection,
  type EncodedPendingAuthorization,
} from '../codec.js'
import type { OutboxEntry } from '../outbox.js'
import type { AppRecord, AuditEntry, ConnectionRecord, Lease, PendingAuthorization } from '../store.js'

export type Row = Record<string, unknown>

/** How a driver's JSON columns arrive; SQL NULL is null either way. */
export type JsonColumns = 'text' | 'parsed'

function json(value: unknown, columns: JsonColumns): unknown {
  if (value === null || value === undefined) return null
  return columns === 'text' ? JSON.parse(String(value)) : value
}

function present(value: unknown): boolean {
  return value !== null && value !== undefined
}

export function appFromRow(keyring: Keyring, row: Row, columns: JsonColumns): AppRecord {
  return decodeApp(keyring, {
    name: row.name,
    provider: row.provider,
    clientId: row.client_id,
    clientSecret: row.client_secret,
    keyId: row.key_id,
    redirectUri: row.redirect_uri,
    scopes: json(row.scopes, columns),
    settings: json(row.settings, columns),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  } as EncodedApp)
}

/** `tolerant`: a record whose secrets cannot be opened comes back marked `unreadable`. */
export function connectionFromRow(
  keyring: Keyring,
  row: Row,
  columns: JsonColumns,
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
      scopes: json(row.scopes, columns),
      metadata: json(row.metadata, columns),
      lastError: json(row.last_error, columns),
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

export function pendingFromRow(keyring: Keyring, row: Row, columns: JsonColumns): PendingAuthorization {
  return decodePendingAuthorization(keyring, {
    state: row.state,
    app: row.app,
    name: row.name,
    redirectUri: row.redirect_uri,
    scopes: json(row.scopes, columns),
    codeVerifier: row.code_verifier,
    keyId: row.key_id,
    options: json(row.options, columns),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  } as EncodedPendingAuthorization)
}

/** A released SQLite lease keeps its row with no owner: read as an empty owner. */
export function leaseFromRow(row: Row): Lease {
  return {
    key: String(row.key),
    owner: present(row.owner) ? String(row.owner) : '',
    fencingToken: Number(row.fencing_token),
    expiresAt: Number(row.expires_at),
  }
}

export function auditEntryFromRow(row: Row, columns: JsonColumns): AuditEntry {
  const entry: AuditEntry = {
    id: String(row.id),
    at: Number(row.at),
    actor: String(row.actor),
    action: String(row.action),
    outcome: row.outcome as AuditEntry['outcome'],
  }
  if (present(row.connection)) entry.connection = String(row.connection)
  if (present(row.detail)) entry.detail = json(row.detail, columns) as AuditEntry['detail']
  return entry
}

export function outboxEntryFromRow(row: Row): OutboxEntry {
  const entry: OutboxEntry = {
    id: String(row.id),
    eventId: String(row.event_id),
    receiverId: String(row.receiver_id),
    orderingKey: String(row.ordering_key),
    body: String(row.body),
    createdAt: Number(row.created_at),
    nextAttemptAt: Number(row.next_attempt_at),
    seq: Number(row.seq),
    state: row.state === 'dead' ? 'dead' : 'pending',
    attempts: Number(row.attempts),
  }
  if (present(row.last_error)) entry.lastError = String(row.last_error)
  if (present(row.claim_owner)) entry.claimOwner = String(row.claim_owner)
  if (present(row.claim_expires_at)) entry.claimExpiresAt = Number(row.claim_expires_at)
  return entry
}
