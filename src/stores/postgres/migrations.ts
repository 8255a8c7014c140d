// The PostgreSQL store's schema, as numbered migrations applied on open. Many processes may open
// the same database at once, so migrating happens in one transaction that first takes a
// transaction-scoped advisory lock for the schema: the first opener migrates, the others wait,
// then find the recorded versions and apply nothing.
//
// Migrations are append-only: never edit a released one; add the next number instead.

import type { PoolClient } from 'pg'
import { StoreError } from '../../errors.js'

export interface PostgresMigration {
  version: number
  name: string
  /** SQL statements; `{schema}` is replaced by the quoted schema name. */
  statements: string[]
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'apps, connections, pending authorizations, leases',
    statements: [
      // Column names follow the codec's encoded records (src/stores/codec.ts): `client_secret`,
      // `secrets` and `code_verifier` hold sealed ciphertexts, `key_id` the key that sealed them.
      // Names and ids use the "C" collation so lists come back in the same (byte) order in
      // every store, whatever the database's locale.
      // Times are BIGINT milliseconds since the epoch, always given by the caller (never the
      // database clock), so every store judges expiry the same way and tests can drive time.
      `CREATE TABLE {schema}.innkeeper_apps (
        name TEXT COLLATE "C" PRIMARY KEY,
        provider TEXT NOT NULL,
        client_id TEXT NOT NULL,
        redirect_uri TEXT,
        scopes JSONB,
        settings JSONB NOT NULL,
        client_secret TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE {schema}.innkeeper_connections (
        id TEXT COLLATE "C" PRIMARY KEY,
        app TEXT COLLATE "C" NOT NULL REFERENCES {schema}.innkeeper_apps (name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        scopes JSONB NOT NULL,
        metadata JSONB NOT NULL,
        last_error JSONB,
        failures INTEGER NOT NULL,
        refresh_due_at BIGINT,
        secrets TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        last_refresh_at BIGINT,
        version BIGINT NOT NULL
      )`,
      `CREATE INDEX innkeeper_connections_app ON {schema}.innkeeper_connections (app)`,
      // The background refresher's claim query walks this index in due order.
      `CREATE INDEX innkeeper_connections_due ON {schema}.innkeeper_connections (refresh_due_at, id)
        WHERE refresh_due_at IS NOT NULL AND state IN ('active', 'error')`,
      `CREATE TABLE {schema}.innkeeper_pending_authorizations (
        state TEXT PRIMARY KEY,
        app TEXT COLLATE "C" NOT NULL REFERENCES {schema}.innkeeper_apps (name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        scopes JSONB NOT NULL,
        options JSONB NOT NULL,
        code_verifier TEXT,
        key_id TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
      `CREATE INDEX innkeeper_pending_authorizations_latest
        ON {schema}.innkeeper_pending_authorizations (app, created_at DESC)`,
      // One sequence for every lease key: fencing tokens only ever grow, across release and expiry.
      `CREATE SEQUENCE {schema}.innkeeper_fencing_tokens AS BIGINT`,
      `CREATE TABLE {schema}.innkeeper_leases (
        key TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        fencing_token BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'documents',
    statements: [
      // Small public JSON documents (hashed API keys and the like); never secrets.
      `CREATE TABLE {schema}.innkeeper_documents (
        collection TEXT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        value JSONB NOT NULL,
        PRIMARY KEY (collection, id)
      )`,
    ],
  },
  {
    version: 3,
    name: 'audit trail',
    statements: [
      // Who did what to which connection; public facts only (never a token or secret).
      `CREATE TABLE {schema}.innkeeper_audit (
        id TEXT COLLATE "C" PRIMARY KEY,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        connection TEXT COLLATE "C",
        outcome TEXT NOT NULL,
        detail JSONB
      )`,
      `CREATE INDEX innkeeper_audit_at ON {schema}.innkeeper_audit (at, id)`,
      `CREATE INDEX innkeeper_audit_connection ON {schema}.innkeeper_audit (connection, at, id)`,
    ],
  },
  // The webhook outbox (see outbox.ts).
  {
    version: 4,
    name: 'webhook outbox',
    statements: [
      // One row per (event, receiver) still to deliver, or dead; delivered rows are deleted.
      `CREATE TABLE {schema}.innkeeper_outbox (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE,
        event_id TEXT NOT NULL,
        receiver_id TEXT COLLATE "C" NOT NULL,
        ordering_key TEXT COLLATE "C" NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        claim_owner TEXT,
        claim_expires_at BIGINT
      )`,
      `CREATE INDEX innkeeper_outbox_by_key ON {schema}.innkeeper_outbox (ordering_key, seq) WHERE state = 'pending'`,
      `CREATE INDEX innkeeper_outbox_by_due ON {schema}.innkeeper_outbox (next_attempt_at) WHERE state = 'pending'`,
      `CREATE INDEX innkeeper_outbox_by_receiver ON {schema}.innkeeper_outbox (receiver_id, seq)`,
    ],
  },
]

/** `"name"`, with embedded quotes doubled (the schema name comes from a URL). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** An arbitrary constant that namespaces Innkeeper's advisory locks from the application's. */
const MIGRATION_LOCK_CLASS = 0x1a4b

/**
 * Brings `schema` up to the latest migration. Safe to call from many processes at once: the
 * advisory lock serialises them, and each migration is recorded in the same transaction that
 * applies it. Answers the versions this call applied (empty when the schema was current).
 */
export async function migratePostgresSchema(client: PoolClient, schema: string): Promise<number[]> {
  const quoted = quoteIdentifier(schema)
  const applied: number[] = []
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.innkeeper_schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
    )
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${quoted}.innkeeper_schema_migrations`,
    )
    const done = new Set(rows.map((row) => row.version))
    const newest = Math.max(0, ...done)
    if (newest > latestPostgresSchemaVersion()) {
      throw new StoreError(
        'store_unavailable',
        `The PostgreSQL schema '${schema}' is at version ${newest}, newer than this Innkeeper knows (${latestPostgresSchemaVersion()}); upgrade Innkeeper on this machine before using that database.`,
      )
    }
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.version)) continue
      for (const statement of migration.statements) {
        await client.query(statement.replaceAll('{schema}', quoted))
      }
      await client.query(
        `INSERT INTO ${quoted}.innkeeper_schema_migrations (version, name) VALUES ($1, $2)`,
        [migration.version, migration.name],
      )
      applied.push(migration.version)
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
  return applied
}

/** The newest migration version this code knows. */
export function latestPostgresSchemaVersion(): number {
  return POSTGRES_MIGRATIONS.reduce((max, migration) => Math.max(max, migration.version), 0)
}
