// Leases in the PostgreSQL store, and the background refresher's claim. Leases are rows with
// fencing tokens from one sequence, judged by the database server's clock (DB_NOW_MS), never the
// caller's `now`, so a worker whose clock is off by minutes can never take a lease still held.

import type { Keyring } from '../../crypto/keyring.js'
import { CLAIMABLE_STATES_SQL } from '../kit/claimable.js'
import { connectionFromRow, leaseFromRow } from '../kit/rows.js'
import { type ClaimedConnection, type Lease, type LeasedConnection, refreshLeaseKey } from '../store.js'
import { CONNECTION_COLUMNS } from './connections.js'
import { DB_NOW_MS, type PostgresDatabase } from './database.js'

const REFRESH_LEASE_PREFIX = refreshLeaseKey('')

export async function acquireLease(
  db: PostgresDatabase,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<Lease | null> {
  // One statement: a free key is inserted; a held key is taken over only if its lease expired.
  // Concurrent acquirers serialise on the key's unique index, so exactly one wins.
  const { leases, fencingSequence } = db.tables
  const { rows } = await db.query(
    'acquire a lease',
    `INSERT INTO ${leases} AS l (key, owner, fencing_token, expires_at)
     VALUES ($1, $2, nextval(${fencingSequence}), ${DB_NOW_MS} + $3::bigint)
     ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, fencing_token = EXCLUDED.fencing_token,
       expires_at = EXCLUDED.expires_at
     WHERE l.expires_at <= ${DB_NOW_MS}
     RETURNING key, owner, fencing_token, expires_at`,
    [key, owner, ttlMs],
  )
  return rows[0] ? leaseFromRow(rows[0]) : null
}

/** See `Store.leaseConnection`. */
export async function leaseConnection(
  db: PostgresDatabase,
  keyring: Keyring,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<LeasedConnection> {
  const { connections, leases, fencingSequence } = db.tables
  // One statement. `record` locks the connection row FOR SHARE, which in READ COMMITTED answers
  // its latest committed version (not this statement's snapshot) and holds off writers until we
  // commit; then `granted` takes the lease as acquireLease does. A holder saves before (or as) it
  // releases, so a lease granted here always comes with the record its holder left.
  const { rows } = await db.prepared(
    'lease a connection',
    `WITH record AS (
       SELECT ${CONNECTION_COLUMNS} FROM ${connections} WHERE id = $1 FOR SHARE
     ), granted AS (
       INSERT INTO ${leases} AS l (key, owner, fencing_token, expires_at)
       SELECT $2, $3, nextval(${fencingSequence}), ${DB_NOW_MS} + $4::bigint FROM record
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, fencing_token = EXCLUDED.fencing_token,
         expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= ${DB_NOW_MS}
       RETURNING l.key AS lease_key, l.owner AS lease_owner, l.fencing_token AS lease_fencing_token,
         l.expires_at AS lease_expires_at
     )
     SELECT ${CONNECTION_COLUMNS}, lease_key, lease_owner, lease_fencing_token, lease_expires_at
     FROM record LEFT JOIN granted ON true`,
    [id, refreshLeaseKey(id), owner, ttlMs],
  )
  const row = rows[0]
  if (!row) return { lease: null, record: null }
  return {
    lease: row.lease_key === null ? null : leaseOfClaim(row),
    record: connectionFromRow(keyring, row, 'parsed'),
  }
}

export async function renewLease(db: PostgresDatabase, lease: Lease, ttlMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    'renew a lease',
    `UPDATE ${db.tables.leases} SET expires_at = ${DB_NOW_MS} + $4::bigint
     WHERE key = $1 AND owner = $2 AND fencing_token = $3`,
    [lease.key, lease.owner, lease.fencingToken, ttlMs],
  )
  return (rowCount ?? 0) > 0
}

export async function releaseLease(db: PostgresDatabase, lease: Lease): Promise<boolean> {
  const { rowCount } = await db.query(
    'release a lease',
    `DELETE FROM ${db.tables.leases} WHERE key = $1 AND owner = $2 AND fencing_token = $3`,
    [lease.key, lease.owner, lease.fencingToken],
  )
  return (rowCount ?? 0) > 0
}

export async function getLease(db: PostgresDatabase, key: string): Promise<Lease | null> {
  const { rows } = await db.query(
    'read a lease',
    `SELECT key, owner, fencing_token, expires_at FROM ${db.tables.leases} WHERE key = $1 AND expires_at > ${DB_NOW_MS}`,
    [key],
  )
  return rows[0] ? leaseFromRow(rows[0]) : null
}

/** See `Store.claimDueConnections`. */
export async function claimDueConnections(
  db: PostgresDatabase,
  keyring: Keyring,
  now: number,
  limit: number,
  owner: string,
  leaseMs: number,
): Promise<ClaimedConnection[]> {
  if (limit <= 0) return []
  const { connections, leases, fencingSequence } = db.tables
  // One statement, so one implicit transaction:
  //  - `due` picks due, claimable rows nobody leases, earliest first, and row-locks them with
  //    SKIP LOCKED so concurrent claimers pass over each other's rows instead of queueing.
  //    The lease check is a scalar subquery on purpose: as NOT EXISTS the planner may hash-join
  //    the leases and sort, reading every due row per claim (O(backlog): measured as
  //    `scale.linear`, 5,000 buffers for 50 rows at N = 5,000); evaluated per row, the due
  //    index is walked in order and the LIMIT stops it after the batch (O(batch));
  //  - `granted` takes the refresh lease for each with the same conditional upsert as
  //    acquireLease, which checks the latest committed lease row (not this statement's
  //    snapshot), so a lease taken a moment ago by anyone else makes that row drop out.
  const { rows } = await db.query(
    'claim due connections',
    `WITH due AS (
       SELECT c.id FROM ${connections} c
       WHERE c.refresh_due_at <= $1 AND c.state IN (${CLAIMABLE_STATES_SQL})
         AND coalesce(
           (SELECT l.expires_at FROM ${leases} l WHERE l.key = $5 || c.id), 0
         ) <= ${DB_NOW_MS}
       ORDER BY c.refresh_due_at, c.id
       LIMIT $2
       FOR UPDATE OF c SKIP LOCKED
     ), granted AS (
       INSERT INTO ${leases} AS l (key, owner, fencing_token, expires_at)
       SELECT $5 || due.id, $3, nextval(${fencingSequence}), ${DB_NOW_MS} + $4::bigint FROM due
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, fencing_token = EXCLUDED.fencing_token,
         expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= ${DB_NOW_MS}
       RETURNING l.key, l.owner, l.fencing_token, l.expires_at
     )
     SELECT c.*, g.key AS lease_key, g.owner AS lease_owner, g.fencing_token AS lease_fencing_token,
       g.expires_at AS lease_expires_at
     -- Joined on c.id itself (not an expression of it), so the primary key index is used.
     FROM granted g JOIN ${connections} c ON c.id = substring(g.key FROM char_length($5) + 1)
     ORDER BY c.refresh_due_at, c.id`,
    [now, limit, owner, leaseMs, REFRESH_LEASE_PREFIX],
  )
  // Tolerant: one record this process cannot open comes back marked `unreadable` (see the Store).
  return rows.map((row) => ({
    connection: connectionFromRow(keyring, row, 'parsed', { tolerant: true }),
    lease: leaseOfClaim(row),
  }))
}

/** The lease columns a claim or leaseConnection answers beside the connection's. */
function leaseOfClaim(row: Record<string, unknown>): Lease {
  return leaseFromRow({
    key: row.lease_key,
    owner: row.lease_owner,
    fencing_token: row.lease_fencing_token,
    expires_at: row.lease_expires_at,
  })
}
