// Every SQL statement the SQLite store runs (except the outbox's, in outbox.ts), prepared once per
// open file. Upserts are `INSERT … ON CONFLICT DO UPDATE`, never `INSERT OR REPLACE`: a replace
// deletes the row first, which would cascade to an app's connections.

import type Database from 'better-sqlite3'
import { CLAIMABLE_STATES_SQL } from '../kit/claimable.js'
import type { Db } from './file.js'

/** The prepared statements of one open file, by name. */
export type SqliteStatements = Record<keyof typeof SQL, Database.Statement>

export function prepareStatements(db: Db): SqliteStatements {
  const entries = Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)])
  return Object.fromEntries(entries) as SqliteStatements
}

const SQL = {
  ping: 'SELECT 1',
  // Around transactions that write leases only or audit entries (`SqliteStore.withoutFsync`).
  syncNormal: 'PRAGMA synchronous = NORMAL',
  syncFull: 'PRAGMA synchronous = FULL',
  appExists: 'SELECT 1 FROM innkeeper_apps WHERE name = ?',
  upsertApp: `
      INSERT INTO innkeeper_apps (name, provider, client_id, client_secret, key_id, redirect_uri, scopes,
                        settings, created_at, updated_at)
      VALUES (@name, @provider, @client_id, @client_secret, @key_id, @redirect_uri, @scopes,
              @settings, @created_at, @updated_at)
      ON CONFLICT (name) DO UPDATE SET
        provider = excluded.provider, client_id = excluded.client_id, client_secret = excluded.client_secret,
        key_id = excluded.key_id, redirect_uri = excluded.redirect_uri,
        scopes = excluded.scopes, settings = excluded.settings, created_at = excluded.created_at,
        updated_at = excluded.updated_at`,
  selectApp: 'SELECT * FROM innkeeper_apps WHERE name = ?',
  selectApps: 'SELECT * FROM innkeeper_apps ORDER BY name',
  deleteApp: 'DELETE FROM innkeeper_apps WHERE name = ?',

  selectConnection: 'SELECT * FROM innkeeper_connections WHERE id = ?',
  selectConnections: 'SELECT * FROM innkeeper_connections ORDER BY id',
  selectConnectionsOfApp: 'SELECT * FROM innkeeper_connections WHERE app = ? ORDER BY id',
  selectConnectionVersion: 'SELECT version FROM innkeeper_connections WHERE id = ?',
  selectConnectionStamps: 'SELECT id, version, updated_at FROM innkeeper_connections',
  upsertConnection: `
      INSERT INTO innkeeper_connections (id, app, name, state, secrets, key_id, scopes, metadata, last_error, failures,
                               refresh_due_at, created_at, updated_at, last_refresh_at, version)
      VALUES (@id, @app, @name, @state, @secrets, @key_id, @scopes, @metadata, @last_error, @failures,
              @refresh_due_at, @created_at, @updated_at, @last_refresh_at, @version)
      ON CONFLICT (id) DO UPDATE SET
        app = excluded.app, name = excluded.name, state = excluded.state, secrets = excluded.secrets,
        key_id = excluded.key_id, scopes = excluded.scopes, metadata = excluded.metadata,
        last_error = excluded.last_error, failures = excluded.failures, refresh_due_at = excluded.refresh_due_at,
        created_at = excluded.created_at, updated_at = excluded.updated_at,
        last_refresh_at = excluded.last_refresh_at, version = excluded.version`,
  deleteConnection: 'DELETE FROM innkeeper_connections WHERE id = ?',
  selectClaimable: `
      SELECT c.* FROM innkeeper_connections c
      LEFT JOIN innkeeper_leases l ON l.key = 'refresh:' || c.id
      WHERE c.refresh_due_at <= @now
        AND c.state IN (${CLAIMABLE_STATES_SQL})
        AND (l.key IS NULL OR l.owner IS NULL OR l.expires_at <= @now)
      ORDER BY c.refresh_due_at, c.id
      LIMIT @limit`,

  upsertPending: `
      INSERT INTO innkeeper_pending_authorizations (state, app, name, redirect_uri, scopes, code_verifier, key_id,
                                          options, created_at, expires_at)
      VALUES (@state, @app, @name, @redirect_uri, @scopes, @code_verifier, @key_id, @options,
              @created_at, @expires_at)
      ON CONFLICT (state) DO UPDATE SET
        app = excluded.app, name = excluded.name, redirect_uri = excluded.redirect_uri, scopes = excluded.scopes,
        code_verifier = excluded.code_verifier, key_id = excluded.key_id,
        options = excluded.options, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  deletePendingReturning: 'DELETE FROM innkeeper_pending_authorizations WHERE state = ? RETURNING *',
  selectLatestPending:
    'SELECT * FROM innkeeper_pending_authorizations WHERE app = ? AND expires_at > ? ORDER BY created_at DESC, state DESC LIMIT 1',

  selectLease: 'SELECT * FROM innkeeper_leases WHERE key = ?',
  selectHeldLease: 'SELECT * FROM innkeeper_leases WHERE key = ? AND owner IS NOT NULL AND expires_at > ?',
  upsertLease: `
      INSERT INTO innkeeper_leases (key, owner, fencing_token, expires_at) VALUES (@key, @owner, @fencing_token, @expires_at)
      ON CONFLICT (key) DO UPDATE SET
        owner = excluded.owner, fencing_token = excluded.fencing_token, expires_at = excluded.expires_at`,
  renewLease:
    'UPDATE innkeeper_leases SET expires_at = @expires_at WHERE key = @key AND owner = @owner AND fencing_token = @fencing_token',
  releaseLease:
    'UPDATE innkeeper_leases SET owner = NULL, expires_at = 0 WHERE key = @key AND owner = @owner AND fencing_token = @fencing_token',
  upsertDocument: `
      INSERT INTO innkeeper_documents (collection, id, value) VALUES (@collection, @id, @value)
      ON CONFLICT (collection, id) DO UPDATE SET value = excluded.value`,
  selectDocument: 'SELECT value FROM innkeeper_documents WHERE collection = ? AND id = ?',
  selectDocuments: 'SELECT id, value FROM innkeeper_documents WHERE collection = ? ORDER BY id',
  selectAllDocuments: 'SELECT collection, id, value FROM innkeeper_documents',
  deleteDocument: 'DELETE FROM innkeeper_documents WHERE collection = ? AND id = ?',
  useDocumentOnce: `
      UPDATE innkeeper_documents SET value = json_set(value, '$.usedAt', @now)
      WHERE collection = @collection AND id = @id AND json_type(value, '$.usedAt') IS NULL
        AND json_type(value, '$.expiresAt') IN ('integer', 'real') AND json_extract(value, '$.expiresAt') > @now
      RETURNING value`,
  resealAppsList:
    'SELECT name AS id, client_secret AS sealed FROM innkeeper_apps WHERE key_id <> ? AND name > ? ORDER BY name LIMIT ?',
  resealAppSwap:
    'UPDATE innkeeper_apps SET client_secret = @resealed, key_id = @key_id WHERE name = @id AND client_secret = @sealed',
  resealConnectionsList:
    'SELECT id, secrets AS sealed, version FROM innkeeper_connections WHERE key_id <> ? AND id > ? ORDER BY id LIMIT ?',
  // The version stays: the record did not change, and a refresher holding it must still commit.
  resealConnectionSwap:
    'UPDATE innkeeper_connections SET secrets = @resealed, key_id = @key_id WHERE id = @id AND version = @version AND secrets = @sealed',
  resealPendingList: `SELECT state AS id, code_verifier AS sealed FROM innkeeper_pending_authorizations
       WHERE code_verifier IS NOT NULL AND key_id <> ? AND state > ? ORDER BY state LIMIT ?`,
  resealPendingSwap:
    'UPDATE innkeeper_pending_authorizations SET code_verifier = @resealed, key_id = @key_id WHERE state = @id AND code_verifier = @sealed',
  insertAudit:
    'INSERT INTO innkeeper_audit (id, at, actor, action, connection, outcome, detail) VALUES (@id, @at, @actor, @action, @connection, @outcome, @detail)',
  selectAudit: `
      SELECT * FROM innkeeper_audit
      WHERE (@connection IS NULL OR connection = @connection) AND (@since IS NULL OR at >= @since)
      ORDER BY at DESC, id DESC LIMIT @limit`,
  countAudit: `
      SELECT (at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS bucket, action, outcome, count(*) AS count FROM innkeeper_audit
      WHERE at >= @since GROUP BY 1, 2, 3`,
  pruneAudit: 'DELETE FROM innkeeper_audit WHERE at < ?',
  countByKeyId: `
      SELECT key_id, count(*) AS count FROM innkeeper_apps GROUP BY 1
      UNION ALL SELECT key_id, count(*) FROM innkeeper_connections GROUP BY 1
      UNION ALL SELECT key_id, count(*) FROM innkeeper_pending_authorizations
        WHERE key_id IS NOT NULL GROUP BY 1`,
}
