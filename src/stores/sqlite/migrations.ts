// The SQLite schema as numbered migrations, and the runner that applies the missing ones in order
// on open, recording each in `schema_migrations`. Never edit a released migration: add the next one.
// Since migration 5 the names are PostgreSQL's (`innkeeper_*` tables). Secret columns hold sealed
// strings from `src/stores/codec.ts`; `key_id` says which key sealed them (for key rotation).
// Times are integer milliseconds since the epoch.

import { StoreError } from '../../errors.js'
import type { Db } from './file.js'

export interface SqliteMigration {
  version: number
  name: string
  sql: string
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'apps, connections, pending authorizations, leases',
    sql: `
      CREATE TABLE apps (
        name TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        client_id TEXT NOT NULL,
        client_secret TEXT NOT NULL,
        client_secret_key_id TEXT NOT NULL,
        redirect_uri TEXT,
        scopes TEXT,
        settings TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE connections (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'needs_reauth', 'error', 'revoked')),
        secrets TEXT NOT NULL,
        secrets_key_id TEXT NOT NULL,
        scopes TEXT NOT NULL,
        metadata TEXT NOT NULL,
        last_error TEXT,
        failures INTEGER NOT NULL,
        refresh_due_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_refresh_at INTEGER,
        version INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX connections_by_app ON connections (app, name);
      CREATE INDEX connections_by_refresh_due_at ON connections (refresh_due_at);

      CREATE TABLE pending_authorizations (
        state TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        scopes TEXT NOT NULL,
        code_verifier TEXT,
        code_verifier_key_id TEXT,
        options TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX pending_authorizations_by_app ON pending_authorizations (app, created_at);

      -- A released lease keeps its row (owner NULL) so the fencing token only ever grows.
      CREATE TABLE leases (
        key TEXT PRIMARY KEY,
        owner TEXT,
        fencing_token INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'documents',
    sql: `
      -- Small JSON documents by collection and id (hashed API keys and the like); not encrypted.
      CREATE TABLE documents (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (collection, id)
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'audit trail',
    sql: `
      -- Who did what to which connection; public facts only (never a token or secret).
      CREATE TABLE audit (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        connection TEXT,
        outcome TEXT NOT NULL,
        detail TEXT
      ) STRICT;
      CREATE INDEX audit_by_at ON audit (at, id);
      CREATE INDEX audit_by_connection ON audit (connection, at, id);
    `,
  },
  {
    version: 4,
    name: 'webhook outbox',
    sql: `
      -- One row per (event, receiver) still to deliver, or dead; delivered rows are deleted.
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        event_id TEXT NOT NULL,
        receiver_id TEXT NOT NULL,
        ordering_key TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        claim_owner TEXT,
        claim_expires_at INTEGER
      ) STRICT;
      CREATE INDEX outbox_by_key ON outbox (ordering_key, state, seq);
      CREATE INDEX outbox_by_due ON outbox (state, next_attempt_at);
      CREATE INDEX outbox_by_receiver ON outbox (receiver_id, seq);
    `,
  },
  {
    version: 5,
    name: 'table and column names as in PostgreSQL',
    sql: `
      -- The PostgreSQL schema's names (innkeeper_* tables, one key_id column per sealed secret), so
      -- both SQL stores read the same columns. Renames keep every row, foreign keys follow the
      -- tables, and sqlite_sequence follows the outbox. Indexes cannot be renamed: they are made
      -- again under the new names, on the same columns. schema_migrations keeps its name: an
      -- older Innkeeper finds this version there and refuses the file instead of starting afresh.
      ALTER TABLE apps RENAME TO innkeeper_apps;
      ALTER TABLE innkeeper_apps RENAME COLUMN client_secret_key_id TO key_id;
      ALTER TABLE connections RENAME TO innkeeper_connections;
      ALTER TABLE innkeeper_connections RENAME COLUMN secrets_key_id TO key_id;
      ALTER TABLE pending_authorizations RENAME TO innkeeper_pending_authorizations;
      ALTER TABLE innkeeper_pending_authorizations RENAME COLUMN code_verifier_key_id TO key_id;
      ALTER TABLE leases RENAME TO innkeeper_leases;
      ALTER TABLE documents RENAME TO innkeeper_documents;
      ALTER TABLE audit RENAME TO innkeeper_audit;
      ALTER TABLE outbox RENAME TO innkeeper_outbox;

      DROP INDEX connections_by_app;
      CREATE INDEX innkeeper_connections_app ON innkeeper_connections (app, name);
      DROP INDEX connections_by_refresh_due_at;
      CREATE INDEX innkeeper_connections_due ON innkeeper_connections (refresh_due_at);
      DROP INDEX pending_authorizations_by_app;
      CREATE INDEX innkeeper_pending_authorizations_latest ON innkeeper_pending_authorizations (app, created_at);
      DROP INDEX audit_by_at;
      CREATE INDEX innkeeper_audit_at ON innkeeper_audit (at, id);
      DROP INDEX audit_by_connection;
      CREATE INDEX innkeeper_audit_connection ON innkeeper_audit (connection, at, id);
      DROP INDEX outbox_by_key;
      CREATE INDEX innkeeper_outbox_by_key ON innkeeper_outbox (ordering_key, state, seq);
      DROP INDEX outbox_by_due;
      CREATE INDEX innkeeper_outbox_by_due ON innkeeper_outbox (state, next_attempt_at);
      DROP INDEX outbox_by_receiver;
      CREATE INDEX innkeeper_outbox_by_receiver ON innkeeper_outbox (receiver_id, seq);
    `,
  },
]

/** Applies missing migrations in one immediate transaction; a second process opening the same
 * fresh file waits for the lock, then finds them applied and does nothing. */
export function migrate(db: Db, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS): void {
  // Up to date (every open after the first): two reads, instead of taking the write lock and
  // writing user_version again. `user_version` is set to the newest version in the same
  // transaction that applies the migrations, so equal means all of them are in; a newer row
  // (a newer Innkeeper's) takes the path below, which refuses the file.
  const newestKnown = Math.max(0, ...migrations.map((m) => m.version))
  if (newestKnown > 0 && db.pragma('user_version', { simple: true }) === newestKnown) {
    const newestApplied = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as
      | { version: number | null }
      | undefined
    if (newestApplied?.version === newestKnown) return
  }
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`)
    const applied = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map(
        (r) => r.version,
      ),
    )
    const newest = Math.max(0, ...migrations.map((m) => m.version))
    const unknown = [...applied].filter((version) => version > newest)
    if (unknown.length > 0) {
      throw new StoreError(
        'store_unavailable',
        `This SQLite file has schema version ${Math.max(...unknown)}, newer than this Innkeeper knows (${newest}); upgrade Innkeeper to use it.`,
      )
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue
      db.exec(migration.sql)
      record.run(migration.version, migration.name, Date.now())
    }
    db.pragma(`user_version = ${newest}`)
  }).immediate()
}
