// SQLite rows and records: the shape of each table's row, and the mapping between rows and the
// codec's encoded records (JSON columns are TEXT here, so they are stringified and parsed).

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

export interface AppRow {
  name: string
  provider: string
  client_id: string
  client_secret: string
  key_id: string
  redirect_uri: string | null
  scopes: string | null
  settings: string
  created_at: number
  updated_at: number
}

export interface ConnectionRow {
  id: string
  app: string
  name: string
  state: EncodedConnection['state']
  secrets: string
  key_id: string
  scopes: string
  metadata: string
  last_error: string | null
  failures: number
  refresh_due_at: number | null
  created_at: number
  updated_at: number
  last_refresh_at: number | null
  version: number
}

export interface PendingRow {
  state: string
  app: string
  name: string
  redirect_uri: string
  scopes: string
  code_verifier: string | null
  key_id: string | null
  options: string
  created_at: number
  expires_at: number
}

export interface LeaseRow {
  key: string
  owner: string | null
  fencing_token: number
  expires_at: number
}

export interface AuditRow {
  id: string
  at: number
  actor: string
  action: string
  connection: string | null
  outcome: AuditEntry['outcome']
  detail: string | null
}

type Params = Record<string, string | number | null>

export function appParams(encoded: EncodedApp): Params {
  return {
    name: encoded.name,
    provider: encoded.provider,
    client_id: encoded.clientId,
    client_secret: encoded.clientSecret,
    key_id: encoded.keyId,
    redirect_uri: encoded.redirectUri,
    scopes: encoded.scopes === null ? null : JSON.stringify(encoded.scopes),
    settings: JSON.stringify(encoded.settings),
    created_at: encoded.createdAt,
    updated_at: encoded.updatedAt,
  }
}

export function connectionParams(encoded: EncodedConnection): Params {
  return {
    id: encoded.id,
    app: encoded.app,
    name: encoded.name,
    state: encoded.state,
    secrets: encoded.secrets,
    key_id: encoded.keyId,
    scopes: JSON.stringify(encoded.scopes),
    metadata: JSON.stringify(encoded.metadata),
    last_error: encoded.lastError === null ? null : JSON.stringify(encoded.lastError),
    failures: encoded.failures,
    refresh_due_at: encoded.refreshDueAt,
    created_at: encoded.createdAt,
    updated_at: encoded.updatedAt,
    last_refresh_at: encoded.lastRefreshAt,
    version: encoded.version,
  }
}

export function pendingParams(encoded: EncodedPendingAuthorization): Params {
  return {
    state: encoded.state,
    app: encoded.app,
    name: encoded.name,
    redirect_uri: encoded.redirectUri,
    scopes: JSON.stringify(encoded.scopes),
    code_verifier: encoded.codeVerifier,
    key_id: encoded.keyId,
    options: JSON.stringify(encoded.options),
    created_at: encoded.createdAt,
    expires_at: encoded.expiresAt,
  }
}

export function auditParams(entry: AuditEntry): Params {
  return {
    id: entry.id,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    connection: entry.connection ?? null,
    outcome: entry.outcome,
    detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
  }
}

export function appFromRow(keyring: Keyring, row: AppRow): AppRecord {
  return decodeApp(keyring, {
    name: row.name,
    provider: row.provider,
    clientId: row.client_id,
    clientSecret: row.client_secret,
    keyId: row.key_id,
    redirectUri: row.redirect_uri,
    scopes: row.scopes === null ? null : JSON.parse(row.scopes),
    settings: JSON.parse(row.settings),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  })
}

export function connectionFromRow(
  keyring: Keyring,
  row: ConnectionRow,
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
      scopes: JSON.parse(row.scopes),
      metadata: JSON.parse(row.metadata),
      lastError: row.last_error === null ? null : JSON.parse(row.last_error),
      failures: row.failures,
      refreshDueAt: row.refresh_due_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastRefreshAt: row.last_refresh_at,
      version: row.version,
    },
    options,
  )
}

export function pendingFromRow(keyring: Keyring, row: PendingRow): PendingAuthorization {
  return decodePendingAuthorization(keyring, {
    state: row.state,
    app: row.app,
    name: row.name,
    redirectUri: row.redirect_uri,
    scopes: JSON.parse(row.scopes),
    codeVerifier: row.code_verifier,
    keyId: row.key_id,
    options: JSON.parse(row.options),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  })
}

export function auditFromRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    outcome: row.outcome,
  }
  if (row.connection !== null) entry.connection = row.connection
  if (row.detail !== null) entry.detail = JSON.parse(row.detail)
  return entry
}

export function leaseFromRow(row: LeaseRow): Lease {
  return { key: row.key, owner: row.owner ?? '', fencingToken: row.fencing_token, expiresAt: row.expires_at }
}
