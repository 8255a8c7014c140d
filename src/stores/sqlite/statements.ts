// Every SQL statement the SQLite store runs (except the outbox's, in outbox.ts), prepared once per
// open file. Upserts are `INSERT … ON CONFLICT DO UPDATE`, never `INSERT OR REPLACE`: a replace
// deletes the row first, which would cascade to an app's connections.

import type Database from 'better-sqlite3'
import type { Db } from './file.js'

/** The prepared statements of one open file, by name. */
export type SqliteStatements = Record<keyof typeof SQL, Database.Statement>

export function prepareStatements(db: Db): SqliteStatements {
  const entries = Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)])
  return Object.fromEntries(entries) as SqliteStatements
}

const SQL = {
  ping: 'SELECT 1',
  appExists: 'SELECT 1 FROM apps WHERE name = ?',
  upsertApp: `
      INSERT INTO apps (name, provider, client_id, client_secret, client_secret_key_id, redirect_uri, scopes,
                        settings, created_at, updated_at)
      VALUES (@name, @provider, @client_id, @client_secret, @client_secret_key_id, @redirect_uri, @scopes,
              @settings, @created_at, @updated_at)
      ON CONFLICT (name) DO UPDATE SET
        provider = excluded.provider, client_id = excluded.client_id, client_secret = excluded.client_secret,
        client_secret_key_id = excluded.client_secret_key_id, redirect_uri = excluded.redirect_uri,
        scopes = excluded.scopes, settings = excluded.settings, created_at = excluded.created_at,
        updated_at = excluded.updated_at`,
  selectApp: 'SELECT * FROM apps WHERE name = ?',
  selectApps: 'SELECT * FROM apps ORDER BY name',
  deleteApp: 'DELETE FROM apps WHERE name = ?',

  selectConnection: 'SELECT * FROM connections WHERE id = ?',
  selectConnections: 'SELECT * FROM connections ORDER BY id',
  selectConnectionsOfApp: 'SELECT * FROM connections WHERE app = ? ORDER BY id',
  selectConnectionVersion: 'SELECT version FROM connections WHERE id = ?',
  selectConnectionStamps: 'SELECT id, version, updated_at FROM connections',
  upsertConnection: `
      INSERT INTO connections (id, app, name, state, secrets, secrets_key_id, scopes, metadata, last_error, failures,
                               refresh_due_at, created_at, updated_at, last_refresh_at, version)
      VALUES (@id, @app, @name, @state, @secrets, @secrets_key_id, @scopes, @metadata, @last_error, @failures,
              @refresh_due_at, @created_at, @updated_at, @last_refresh_at, @version)
      ON CONFLICT (id) DO UPDATE SET
        app = excluded.app, name = excluded.name, state = excluded.state, secrets = excluded.secrets,
        secrets_key_id = excluded.secrets_key_id, scopes = excluded.scopes, metadata = excluded.metadata,
        last_error = excluded.last_error, failures = excluded.failures, refresh_due_at = excluded.refresh_due_at,
        created_at = excluded.created_at, updated_at = excluded.updated_at,
        last_refresh_at = excluded.last_refresh_at, version = excluded.version`,
  deleteConnection: 'DELETE FROM connections WHERE id = ?',
  selectClaimable: `
      SELECT c.* FROM connections c
      LEFT JOIN leases l ON l.key = 'refresh:' || c.id
      WHERE c.refresh_due_at <= @now
        AND c.state IN ('active', 'error')
        AND (l.key IS NULL OR l.owner IS NULL OR l.expires_at <= @now)
      ORDER BY c.refresh_due_at, c.id
      LIMIT @limit`,

  upsertPending: `
      INSERT INTO pending_authorizations (state, app, name, redirect_uri, scopes, code_verifier, code_verifier_key_id,
                                          options, created_at, expires_at)
      VALUES (@state, @app, @name, @redirect_uri, @scopes, @code_verifier, @code_verifier_key_id, @options,
              @created_at, @expires_at)
      ON CONFLICT (state) DO UPDATE SET
        app = excluded.app, name = excluded.name, redirect_uri = excluded.redirect_uri, scopes = excluded.scopes,
        code_verifier = excluded.code_verifier, code_verifier_key_id = excluded.code_verifier_key_id,
        options = excluded.options, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  deletePendingReturning: 'DELETE FROM pending_authorizations WHERE state = ? RETURNING *',
  selectLatestPending:
    'SELECT * FROM pending_authorizations WHERE app = ? AND expires_at > ? ORDER BY created_at DESC, state DESC LIMIT 1',

  selectLease: 'SELECT * FROM leases WHERE key = ?',
  selectHeldLease: 'SELECT * FROM leases WHERE key = ? AND owner IS NOT NULL AND expires_at > ?',
  upsertLease: `
      INSERT INTO leases (key, owner, fencing_token, expires_at) VALUES (@key, @owner, @fencing_token, @expires_at)
      ON CONFLICT (key) DO UPDATE SET
        owner = excluded.owner, fencing_token = excluded.fencing_token, expires_at = excluded.expires_at`,
  renewLease:
    'UPDATE leases SET expires_at = @expires_at WHERE key = @key AND owner = @owner AND fencing_token = @fencing_token',
  releaseLease:
    'UPDATE leases SET owner = NULL, expires_at = 0 WHERE key = @key AND owner = @owner AND fencing_token = @fencing_token',
  upsertDocument: `
      INSERT INTO documents (collection, id, value) VALUES (@collection, @id, @value)
      ON CONFLICT (collection, id) DO UPDATE SET value = excluded.value`,
  selectDocument: 'SELECT value FROM documents WHERE collection = ? AND id = ?',
  selectDocuments: 'SELECT id, value FROM documents WHERE collection = ? ORDER BY id',
  selectAllDocuments: 'SELECT collection, id, value FROM documents',
  deleteDocument: 'DELETE FROM documents WHERE collection = ? AND id = ?',
  useDocumentOnce: `
      UPDATE documents SET value = json_set(value, '$.usedAt', @now)
      WHERE collection = @collection AND id = @id AND json_type(value, '$.usedAt') IS NULL
        AND json_type(value, '$.expiresAt') IN ('integer', 'real') AND json_extract(value, '$.expiresAt') > @now
      RETURNING value`,
  resealAppsList:
    'SELECT name AS id, client_secret AS sealed FROM apps WHERE client_secret_key_id <> ? AND name > ? ORDER BY name LIMIT ?',
  resealAppSwap:
    'UPDATE apps SET client_secret = @resealed, client_secret_key_id = @key_id WHERE name = @id AND client_secret = @sealed',
  resealConnectionsList:
    'SELECT id, secrets AS sealed, version FROM connections WHERE secrets_key_id <> ? AND id > ? ORDER BY id LIMIT ?',
  // The version stays: the record did not change, and a refresher holding it must still commit.
  resealConnectionSwap:
    'UPDATE connections SET secrets = @resealed, secrets_key_id = @key_id WHERE id = @id AND version = @version AND secrets = @sealed',
  resealPendingList: `SELECT state AS id, code_verifier AS sealed FROM pending_authorizations
       WHERE code_verifier IS NOT NULL AND code_verifier_key_id <> ? AND state > ? ORDER BY state LIMIT ?`,
  resealPendingSwap:
    'UPDATE pending_authorizations SET code_verifier = @resealed, code_verifier_key_id = @key_id WHERE state = @id AND code_verifier = @sealed',
  insertAudit:
    'INSERT INTO audit (id, at, actor, action, connection, outcome, detail) VALUES (@id, @at, @actor, @action, @connection, @outcome, @detail)',
  selectAudit: `
      SELECT * FROM audit
      WHERE (@connection IS NULL OR connection = @connection) AND (@since IS NULL OR at >= @since)
      ORDER BY at DESC, id DESC LIMIT @limit`,
  countAudit: `
      SELECT (at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS bucket, action, outcome, count(*) AS count FROM audit
      WHERE at >= @since GROUP BY 1, 2, 3`,
  pruneAudit: 'DELETE FROM audit WHERE at < ?',
  countByKeyId: `
      SELECT client_secret_key_id AS key_id, count(*) AS count FROM apps GROUP BY 1
      UNION ALL SELECT secrets_key_id, count(*) FROM connections GROUP BY 1
      UNION ALL SELECT code_verifier_key_id, count(*) FROM pending_authorizations
        WHERE code_verifier_key_id IS NOT NULL GROUP BY 1`,
}
