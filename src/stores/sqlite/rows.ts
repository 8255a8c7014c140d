// SQLite rows: the columns the store itself reads, and records to named statement parameters
// (JSON columns are TEXT here, so they are stringified). Rows become records in ../kit/rows.ts,
// shared with PostgreSQL (same column names), with JSON columns read as `text`.

import type { EncodedApp, EncodedConnection, EncodedPendingAuthorization } from '../codec.js'
import type { Row } from '../kit/rows.js'
import type { AuditEntry } from '../store.js'
import type { ConnectionStamp } from './changes.js'

export type ConnectionRow = Row & ConnectionStamp
export type PendingRow = Row & { expires_at: number }
export type LeaseRow = Row & { owner: string | null; fencing_token: number; expires_at: number }

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
