// Writing and deleting connections in the PostgreSQL store. Every write is one statement that
// checks the version (compare-and-swap) and NOTIFYs the changes feed, so the notification goes
// out exactly when the change commits; with webhook events, the write and their outbox entries
// commit in one transaction (or neither does); a refresh's lease is released in the same statement.

import type pg from 'pg'
import type { Keyring } from '../../crypto/keyring.js'
import { encodeConnection, versionConflictError } from '../codec.js'
import type { OutboxEntryInput } from '../outbox.js'
import type { ConnectionRecord, Lease } from '../store.js'
import { json, type PostgresDatabase, type PostgresQuery } from './database.js'
import { PostgresOutbox } from './outbox.js'

/** The tail of a connection-writing statement: tells listeners which row `saved` wrote, on commit. */
const NOTIFY_SAVED = (channelParam: string) =>
  `SELECT saved.version, pg_notify(${channelParam}, saved.id) FROM saved`

const COLUMNS =
  'id, app, name, state, scopes, metadata, last_error, failures, refresh_due_at, secrets, key_id, created_at, updated_at, last_refresh_at'

/** Every column a connection record is read from, named (for prepared statements, see `PostgresDatabase.prepared`). */
export const CONNECTION_COLUMNS = `${COLUMNS}, version`

const UPDATES = `app = $2, name = $3, state = $4, scopes = $5, metadata = $6, last_error = $7, failures = $8,
      refresh_due_at = $9, secrets = $10, key_id = $11, created_at = $12, updated_at = $13,
      last_refresh_at = $14`

/** See `Store.saveConnection`. */
export async function saveConnection(
  db: PostgresDatabase,
  keyring: Keyring,
  record: ConnectionRecord,
  expectedVersion: number | undefined,
  outbox: OutboxEntryInput[],
  release?: Lease,
): Promise<ConnectionRecord> {
  if (outbox.length > 0) {
    return db.inTransaction('save a connection with its events', async (query) => {
      const saved = await writeConnection(db, keyring, record, expectedVersion, query, release)
      await new PostgresOutbox(query, db.tables.outbox).enqueue(outbox)
      return saved
    })
  }
  return writeConnection(db, keyring, record, expectedVersion, db.prepared, release)
}

/** The compare-and-swap write itself, through `query` (alone, or inside a transaction). */
export async function writeConnection(
  db: PostgresDatabase,
  keyring: Keyring,
  record: ConnectionRecord,
  expectedVersion: number | undefined,
  query: PostgresQuery,
  release?: Lease,
): Promise<ConnectionRecord> {
  const row = encodeConnection(keyring, record)
  const values = [
    row.id,
    row.app,
    row.name,
    row.state,
    json(row.scopes),
    json(row.metadata),
    json(row.lastError),
    row.failures,
    row.refreshDueAt,
    row.secrets,
    row.keyId,
    row.createdAt,
    row.updatedAt,
    row.lastRefreshAt,
  ]
  const table = db.tables.connections
  // With `release`, the lease goes in the same statement, only if the row was written. Its key is
  // read from `saved`, so the connection row is locked before the lease row (the order
  // leaseConnection takes them in too: no deadlock between the two).
  const released = (first: number) =>
    release
      ? `, released AS (DELETE FROM ${db.tables.leases}
         WHERE key = (SELECT $${first}::text FROM saved) AND owner = $${first + 1} AND fencing_token = $${first + 2})`
      : ''
  const releaseValues = release ? [release.key, release.owner, release.fencingToken] : []
  let result: pg.QueryResult
  if (expectedVersion === undefined) {
    result = await query(
      'save a connection',
      `WITH saved AS (INSERT INTO ${table} AS c (${COLUMNS}, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)
       ON CONFLICT (id) DO UPDATE SET ${UPDATES}, version = c.version + 1
       RETURNING id, version)${released(16)}
       ${NOTIFY_SAVED('$15')}`,
      [...values, db.channel, ...releaseValues],
    )
  } else if (expectedVersion === 0) {
    result = await query(
      'create a connection',
      `WITH saved AS (INSERT INTO ${table} (${COLUMNS}, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)
       ON CONFLICT (id) DO NOTHING
       RETURNING id, version)${released(16)}
       ${NOTIFY_SAVED('$15')}`,
      [...values, db.channel, ...releaseValues],
    )
  } else {
    result = await query(
      'update a connection',
      `WITH saved AS (UPDATE ${table} SET ${UPDATES}, version = $15 + 1
       WHERE id = $1 AND version = $15
       RETURNING id, version)${released(17)}
       ${NOTIFY_SAVED('$16')}`,
      [...values, expectedVersion, db.channel, ...releaseValues],
    )
  }
  const stored = result.rows[0] as { version: string } | undefined
  if (!stored) {
    const current = await query('read a connection version', `SELECT version FROM ${table} WHERE id = $1`, [
      record.id,
    ])
    throw versionConflictError(record.id, expectedVersion ?? 0, Number(current.rows[0]?.version ?? 0))
  }
  return { ...structuredClone(record), version: Number(stored.version) }
}

/** See `Store.deleteConnection`. */
export async function deleteConnection(
  db: PostgresDatabase,
  id: string,
  outbox: OutboxEntryInput[],
): Promise<boolean> {
  if (outbox.length > 0) {
    return db.inTransaction('delete a connection with its events', async (query) => {
      const deleted = await removeConnection(db, id, query)
      if (deleted) await new PostgresOutbox(query, db.tables.outbox).enqueue(outbox)
      return deleted
    })
  }
  return removeConnection(db, id, db.query)
}

async function removeConnection(db: PostgresDatabase, id: string, query: PostgresQuery): Promise<boolean> {
  // The NOTIFY is part of the deleting statement, so it goes out exactly when the delete commits.
  const { rowCount } = await query(
    'delete a connection',
    `WITH gone AS (DELETE FROM ${db.tables.connections} WHERE id = $1 RETURNING id)
     SELECT pg_notify($2, gone.id) FROM gone`,
    [id, db.channel],
  )
  return (rowCount ?? 0) > 0
}
