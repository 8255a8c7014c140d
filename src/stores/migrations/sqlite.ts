// The SQLite schema as numbered migrations, applied in order on open and recorded in
// `schema_migrations`. Never edit a released migration: add the next one.
// Secret columns hold sealed strings from `src/stores/codec.ts`; `*_key_id` columns say which key
// sealed them (for key rotation). Times are integer milliseconds since the epoch.

import { SQLITE_OUTBOX_MIGRATION } from '../sqlite-outbox.js'

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
  SQLITE_OUTBOX_MIGRATION,
]
