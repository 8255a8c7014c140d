// The PostgreSQL store: many worker processes on many machines share one database as the store
// and the coordination point. Versions make every
// connection write a compare-and-swap, leases are rows with fencing tokens from a sequence, and
// the background refresher claims due connections with `FOR UPDATE SKIP LOCKED`. Every secret
// is encrypted with the keyring before it leaves the process.
//
// URL: postgres://user:password@host:5432/db?schema=innkeeper  (schema defaults to `public`;
// every table is named `innkeeper_*`). Other query parameters (sslmode, …) go to `pg` as usual.

import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Keyring } from '../crypto/keyring.js'
import { InnkeeperError, StoreError } from '../errors.js'
import {
  ANY_CONNECTION,
  type ChangeListener,
  ChangesHub,
  type ChangesSource,
  type ChangesSubscription,
} from './changes.js'
import {
  decodeApp,
  decodeConnection,
  decodePendingAuthorization,
  type EncodedApp,
  type EncodedConnection,
  type EncodedPendingAuthorization,
  encodeApp,
  encodeConnection,
  encodePendingAuthorization,
  unknownAppError,
  versionConflictError,
} from './codec.js'
import type { OutboxEntryInput } from './outbox.js'
import { migratePostgresSchema, quoteIdentifier } from './postgres-migrations.js'
import { PostgresOutbox } from './postgres-outbox.js'
import { type ResealPhase, reencryptInPhases } from './reseal.js'
import {
  type AppRecord,
  type AuditCount,
  type AuditEntry,
  type ClaimedConnection,
  type ConnectionRecord,
  type Lease,
  type ListAuditFilter,
  type ListConnectionsFilter,
  type PendingAuthorization,
  type ReencryptResult,
  refreshLeaseKey,
  type Store,
} from './store.js'

export interface PostgresStoreOptions {
  keyring: Keyring
  /** Schema holding the tables; overrides `?schema=`. Created if missing. */
  schema?: string
  /** Most connections the pool opens (default 10). */
  maxConnections?: number
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const REFRESH_LEASE_PREFIX = refreshLeaseKey('')

/** Opens (and migrates) the PostgreSQL store at `url`. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<Store> {
  const target = parsePostgresUrl(url, options.schema)
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
  })
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined)
  try {
    const client = await pool.connect()
    try {
      await migratePostgresSchema(client, target.schema)
    } finally {
      client.release()
    }
  } catch (error) {
    await pool.end().catch(() => undefined)
    throw storeFailure(error, `open the PostgreSQL store at ${target.display}`)
  }
  return new PostgresStore(pool, target, options.keyring)
}

interface PostgresTarget {
  connectionString: string
  schema: string
  /** The URL with the password removed, for messages. */
  display: string
}

export function parsePostgresUrl(url: string, schemaOverride?: string): PostgresTarget {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new StoreError(
      'invalid_config',
      'The PostgreSQL store URL is not a valid URL; write it as postgres://user:password@host:5432/database?schema=innkeeper.',
    )
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StoreError(
      'invalid_config',
      `A PostgreSQL store URL starts with postgres://, not ${parsed.protocol}//.`,
    )
  }
  const schema = schemaOverride ?? parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  const display = redactUrl(parsed)
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      'invalid_config',
      `The schema '${schema.slice(0, 80)}' in ${display} is not a plain PostgreSQL name; use letters, digits and '_' (at most 63, not starting with a digit).`,
    )
  }
  return {
    connectionString: parsed.toString(),
    schema,
    display: `${display}${display.includes('?') ? '&' : '?'}schema=${schema}`,
  }
}

/** The URL without its password (and without credentials in query parameters). */
export function redactUrl(url: URL): string {
  const copy = new URL(url.toString())
  if (copy.password) copy.password = '***'
  for (const name of [...copy.searchParams.keys()]) {
    if (/pass|secret|key|token/i.test(name)) copy.searchParams.set(name, '***')
  }
  return copy.toString()
}

class PostgresStore implements Store {
  readonly kind = 'postgres' as const
  readonly leaseClock = 'server' as const
  private closed = false
  private readonly apps: string
  private readonly connections: string
  private readonly pending: string
  private readonly leases: string
  private readonly documents: string
  private readonly audit: string
  private readonly fencingSequence: string
  private readonly display: string
  /** The NOTIFY channel of this schema's changes feed (a plain identifier, under 64 bytes). */
  private readonly channel: string
  private readonly changes: ChangesHub

  constructor(
    private readonly pool: pg.Pool,
    target: PostgresTarget,
    private readonly keyring: Keyring,
  ) {
    const schema = target.schema
    this.display = target.display
    this.channel = `innkeeper_changes_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`
    this.changes = new ChangesHub(postgresChangesSource(target.connectionString, this.channel))
    const quoted = quoteIdentifier(schema)
    this.apps = `${quoted}.innkeeper_apps`
    this.connections = `${quoted}.innkeeper_connections`
    this.pending = `${quoted}.innkeeper_pending_authorizations`
    this.leases = `${quoted}.innkeeper_leases`
    this.documents = `${quoted}.innkeeper_documents`
    this.audit = `${quoted}.innkeeper_audit`
    // The schema name is checked against SCHEMA_NAME, so it is safe inside a string literal.
    this.fencingSequence = `'${quoted}.innkeeper_fencing_tokens'`
  }

  async putApp(app: AppRecord): Promise<void> {
    const row = encodeApp(this.keyring, app)
    await this.query(
      'save an app',
      `INSERT INTO ${this.apps} (name, provider, client_id, redirect_uri, scopes, settings, client_secret, key_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (name) DO UPDATE SET provider = EXCLUDED.provider, client_id = EXCLUDED.client_id,
         redirect_uri = EXCLUDED.redirect_uri, scopes = EXCLUDED.scopes, settings = EXCLUDED.settings,
         client_secret = EXCLUDED.client_secret, key_id = EXCLUDED.key_id, created_at = EXCLUDED.created_at,
         updated_at = EXCLUDED.updated_at`,
      [
        row.name,
        row.provider,
        row.clientId,
        row.redirectUri,
        json(row.scopes),
        json(row.settings),
        row.clientSecret,
        row.keyId,
        row.createdAt,
        row.updatedAt,
      ],
    )
  }

  async getApp(name: string): Promise<AppRecord | null> {
    const { rows } = await this.query('read an app', `SELECT * FROM ${this.apps} WHERE name = $1`, [name])
    return rows[0] ? this.appFromRow(rows[0]) : null
  }

  async listApps(): Promise<AppRecord[]> {
    const { rows } = await this.query('list apps', `SELECT * FROM ${this.apps} ORDER BY name`, [])
    return rows.map((row) => this.appFromRow(row))
  }

  async deleteApp(name: string): Promise<boolean> {
    // Connections and pending authorizations go with it (ON DELETE CASCADE), in one statement.
    const { rowCount } = await this.query(
      'delete an app',
      `WITH gone AS (DELETE FROM ${this.apps} WHERE name = $1 RETURNING name)
       SELECT pg_notify($2, '${ANY_CONNECTION}') FROM gone`,
      [name, this.channel],
    )
    return (rowCount ?? 0) > 0
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    const { rows } = await this.query(
      'read a connection',
      `SELECT * FROM ${this.connections} WHERE id = $1`,
      [id],
    )
    return rows[0] ? this.connectionFromRow(rows[0]) : null
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    const { rows } =
      filter.app === undefined
        ? await this.query('list connections', `SELECT * FROM ${this.connections} ORDER BY id`, [])
        : await this.query(
            'list connections',
            `SELECT * FROM ${this.connections} WHERE app = $1 ORDER BY id`,
            [filter.app],
          )
    return rows.map((row) => this.connectionFromRow(row, { tolerant: true }))
  }

  async saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
  ): Promise<ConnectionRecord> {
    // With events, the save and their outbox entries commit in one transaction (or neither does).
    if (outbox.length > 0) {
      return this.inTransaction('save a connection with its events', async (query) => {
        const saved = await this.writeConnection(record, expectedVersion, query)
        await new PostgresOutbox(query, this.outbox.tableName).enqueue(outbox)
        return saved
      })
    }
    return this.writeConnection(record, expectedVersion, (operation, sql, values) =>
      this.query(operation, sql, values),
    )
  }

  private async writeConnection(
    record: ConnectionRecord,
    expectedVersion: number | undefined,
    query: PostgresQuery,
  ): Promise<ConnectionRecord> {
    const row = encodeConnection(this.keyring, record)
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
    const columns =
      'id, app, name, state, scopes, metadata, last_error, failures, refresh_due_at, secrets, key_id, created_at, updated_at, last_refresh_at'
    const updates = `app = $2, name = $3, state = $4, scopes = $5, metadata = $6, last_error = $7, failures = $8,
      refresh_due_at = $9, secrets = $10, key_id = $11, created_at = $12, updated_at = $13,
      last_refresh_at = $14`
    let result: pg.QueryResult
    if (expectedVersion === undefined) {
      result = await query(
        'save a connection',
        `WITH saved AS (INSERT INTO ${this.connections} AS c (${columns}, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)
         ON CONFLICT (id) DO UPDATE SET ${updates}, version = c.version + 1
         RETURNING id, version)
         ${NOTIFY_SAVED('$15')}`,
        [...values, this.channel],
      )
    } else if (expectedVersion === 0) {
      result = await query(
        'create a connection',
        `WITH saved AS (INSERT INTO ${this.connections} (${columns}, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)
         ON CONFLICT (id) DO NOTHING
         RETURNING id, version)
         ${NOTIFY_SAVED('$15')}`,
        [...values, this.channel],
      )
    } else {
      result = await query(
        'update a connection',
        `WITH saved AS (UPDATE ${this.connections} SET ${updates}, version = $15 + 1
         WHERE id = $1 AND version = $15
         RETURNING id, version)
         ${NOTIFY_SAVED('$16')}`,
        [...values, expectedVersion, this.channel],
      )
    }
    const stored = result.rows[0] as { version: string } | undefined
    if (!stored) {
      const current = await query(
        'read a connection version',
        `SELECT version FROM ${this.connections} WHERE id = $1`,
        [record.id],
      )
      throw versionConflictError(record.id, expectedVersion ?? 0, Number(current.rows[0]?.version ?? 0))
    }
    return { ...structuredClone(record), version: Number(stored.version) }
  }

  async deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    // With events, the delete and their outbox entries commit in one transaction (or neither does).
    if (outbox.length > 0) {
      return this.inTransaction('delete a connection with its events', async (query) => {
        const deleted = await this.removeConnection(id, query)
        if (deleted) await new PostgresOutbox(query, this.outbox.tableName).enqueue(outbox)
        return deleted
      })
    }
    return this.removeConnection(id, (operation, sql, values) => this.query(operation, sql, values))
  }

  private async removeConnection(id: string, query: PostgresQuery): Promise<boolean> {
    // The NOTIFY is part of the deleting statement, so it goes out exactly when the delete commits.
    const { rowCount } = await query(
      'delete a connection',
      `WITH gone AS (DELETE FROM ${this.connections} WHERE id = $1 RETURNING id)
       SELECT pg_notify($2, gone.id) FROM gone`,
      [id, this.channel],
    )
    return (rowCount ?? 0) > 0
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    const row = encodePendingAuthorization(this.keyring, pending)
    await this.query(
      'save a pending authorization',
      `INSERT INTO ${this.pending} (state, app, name, redirect_uri, scopes, options, code_verifier, key_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (state) DO UPDATE SET app = EXCLUDED.app, name = EXCLUDED.name,
         redirect_uri = EXCLUDED.redirect_uri, scopes = EXCLUDED.scopes, options = EXCLUDED.options,
         code_verifier = EXCLUDED.code_verifier, key_id = EXCLUDED.key_id, created_at = EXCLUDED.created_at,
         expires_at = EXCLUDED.expires_at`,
      [
        row.state,
        row.app,
        row.name,
        row.redirectUri,
        json(row.scopes),
        json(row.options),
        row.codeVerifier,
        row.keyId,
        row.createdAt,
        row.expiresAt,
      ],
    )
  }

  async takePendingAuthorization(state: string, now: number): Promise<PendingAuthorization | null> {
    // DELETE … RETURNING: of concurrent takers, exactly one gets the row.
    const { rows } = await this.query(
      'take a pending authorization',
      `DELETE FROM ${this.pending} WHERE state = $1 RETURNING *`,
      [state],
    )
    const row = rows[0]
    if (!row || Number(row.expires_at) <= now) return null
    return this.pendingFromRow(row)
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    const { rows } = await this.query(
      'find the latest pending authorization',
      `SELECT * FROM ${this.pending} WHERE app = $1 AND expires_at > $2 ORDER BY created_at DESC LIMIT 1`,
      [app, now],
    )
    return rows[0] ? this.pendingFromRow(rows[0]) : null
  }

  // Leases are judged by the database server's clock (DB_NOW_MS), never the caller's `now`, so a
  // worker whose clock is off by minutes can never take a lease that is still held.
  async acquireLease(key: string, owner: string, ttlMs: number, _now: number): Promise<Lease | null> {
    // One statement: a free key is inserted; a held key is taken over only if its lease expired.
    // Concurrent acquirers serialise on the key's unique index, so exactly one wins.
    const { rows } = await this.query(
      'acquire a lease',
      `INSERT INTO ${this.leases} AS l (key, owner, fencing_token, expires_at)
       VALUES ($1, $2, nextval(${this.fencingSequence}), ${DB_NOW_MS} + $3::bigint)
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, fencing_token = EXCLUDED.fencing_token,
         expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= ${DB_NOW_MS}
       RETURNING key, owner, fencing_token, expires_at`,
      [key, owner, ttlMs],
    )
    return rows[0] ? leaseFromRow(rows[0]) : null
  }

  async renewLease(lease: Lease, ttlMs: number, _now: number): Promise<boolean> {
    const { rowCount } = await this.query(
      'renew a lease',
      `UPDATE ${this.leases} SET expires_at = ${DB_NOW_MS} + $4::bigint
       WHERE key = $1 AND owner = $2 AND fencing_token = $3`,
      [lease.key, lease.owner, lease.fencingToken, ttlMs],
    )
    return (rowCount ?? 0) > 0
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    const { rowCount } = await this.query(
      'release a lease',
      `DELETE FROM ${this.leases} WHERE key = $1 AND owner = $2 AND fencing_token = $3`,
      [lease.key, lease.owner, lease.fencingToken],
    )
    return (rowCount ?? 0) > 0
  }

  async getLease(key: string, _now: number): Promise<Lease | null> {
    const { rows } = await this.query(
      'read a lease',
      `SELECT key, owner, fencing_token, expires_at FROM ${this.leases} WHERE key = $1 AND expires_at > ${DB_NOW_MS}`,
      [key],
    )
    return rows[0] ? leaseFromRow(rows[0]) : null
  }

  async claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]> {
    if (limit <= 0) return []
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
    const { rows } = await this.query(
      'claim due connections',
      `WITH due AS (
         SELECT c.id FROM ${this.connections} c
         WHERE c.refresh_due_at <= $1 AND c.state IN ('active', 'error')
           AND coalesce(
             (SELECT l.expires_at FROM ${this.leases} l WHERE l.key = $5 || c.id), 0
           ) <= ${DB_NOW_MS}
         ORDER BY c.refresh_due_at, c.id
         LIMIT $2
         FOR UPDATE OF c SKIP LOCKED
       ), granted AS (
         INSERT INTO ${this.leases} AS l (key, owner, fencing_token, expires_at)
         SELECT $5 || due.id, $3, nextval(${this.fencingSequence}), ${DB_NOW_MS} + $4::bigint FROM due
         ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, fencing_token = EXCLUDED.fencing_token,
           expires_at = EXCLUDED.expires_at
         WHERE l.expires_at <= ${DB_NOW_MS}
         RETURNING l.key, l.owner, l.fencing_token, l.expires_at
       )
       SELECT c.*, g.key AS lease_key, g.owner AS lease_owner, g.fencing_token AS lease_fencing_token,
         g.expires_at AS lease_expires_at
       -- Joined on c.id itself (not an expression of it), so the primary key index is used.
       FROM granted g JOIN ${this.connections} c ON c.id = substring(g.key FROM char_length($5) + 1)
       ORDER BY c.refresh_due_at, c.id`,
      [now, limit, owner, leaseMs, REFRESH_LEASE_PREFIX],
    )
    // Tolerant: one record this process cannot open comes back marked `unreadable` (see the Store).
    return rows.map((row) => ({
      connection: this.connectionFromRow(row, { tolerant: true }),
      lease: leaseFromRow({
        key: row.lease_key,
        owner: row.lease_owner,
        fencing_token: row.lease_fencing_token,
        expires_at: row.lease_expires_at,
      }),
    }))
  }

  async countSecretsByKeyId(): Promise<Record<string, number>> {
    const { rows } = await this.query(
      'count secrets by key id',
      `SELECT key_id, count(*) AS count FROM ${this.apps} GROUP BY key_id
       UNION ALL SELECT key_id, count(*) FROM ${this.connections} GROUP BY key_id
       UNION ALL SELECT key_id, count(*) FROM ${this.pending} WHERE code_verifier IS NOT NULL GROUP BY key_id`,
      [],
    )
    const counts: Record<string, number> = {}
    for (const row of rows) counts[String(row.key_id)] = (counts[String(row.key_id)] ?? 0) + Number(row.count)
    return counts
  }

  async reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    // Each swap is one UPDATE that checks the ciphertext (and a connection's version) it read;
    // the version is left as it is, since the record did not change.
    const phase = (
      kind: ResealPhase['kind'],
      table: string,
      idColumn: string,
      column: string,
    ): ResealPhase => ({
      kind,
      list: async (after, count, currentKeyId) => {
        if (count <= 0) return []
        const { rows } = await this.query(
          'list secrets to re-encrypt',
          `SELECT ${idColumn} AS id, ${column} AS sealed${kind === 'connection' ? ', version' : ''} FROM ${table}
           WHERE ${column} IS NOT NULL AND key_id <> $1 AND ${idColumn} > $2 ORDER BY ${idColumn} LIMIT $3`,
          [currentKeyId, after, count],
        )
        return rows.map((row) => ({
          id: String(row.id),
          sealed: String(row.sealed),
          ...(row.version === undefined ? {} : { version: Number(row.version) }),
        }))
      },
      swap: async (candidate, resealed, keyId) => {
        const versionCheck = candidate.version === undefined ? '' : ' AND version = $5'
        const { rowCount } = await this.query(
          're-encrypt a secret',
          `UPDATE ${table} SET ${column} = $1, key_id = $2 WHERE ${idColumn} = $3 AND ${column} = $4${versionCheck}`,
          [
            resealed,
            keyId,
            candidate.id,
            candidate.sealed,
            ...(candidate.version === undefined ? [] : [candidate.version]),
          ],
        )
        return (rowCount ?? 0) > 0
      },
    })
    return reencryptInPhases(
      this.keyring,
      {
        app: phase('app', this.apps, 'name', 'client_secret'),
        connection: phase('connection', this.connections, 'id', 'secrets'),
        pending: phase('pending', this.pending, 'state', 'code_verifier'),
      },
      cursor,
      limit,
    )
  }

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    // One multi-row INSERT for the whole batch.
    const values: unknown[] = []
    const rows = entries.map((entry, index) => {
      values.push(
        entry.id,
        entry.at,
        entry.actor,
        entry.action,
        entry.connection ?? null,
        entry.outcome,
        json(entry.detail),
      )
      const base = index * 7
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7})`
    })
    await this.query(
      'append to the audit trail',
      `INSERT INTO ${this.audit} (id, at, actor, action, connection, outcome, detail) VALUES ${rows.join(', ')}`,
      values,
    )
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    const { rows } = await this.query(
      'read the audit trail',
      `SELECT * FROM ${this.audit}
       WHERE ($1::text IS NULL OR connection = $1) AND ($2::bigint IS NULL OR at >= $2)
       ORDER BY at DESC, id DESC LIMIT $3`,
      [filter.connection ?? null, filter.since ?? null, filter.limit ?? 100],
    )
    return rows.map((row) => {
      const entry: AuditEntry = {
        id: String(row.id),
        at: Number(row.at),
        actor: String(row.actor),
        action: String(row.action),
        outcome: row.outcome,
      }
      if (row.connection !== null) entry.connection = String(row.connection)
      if (row.detail !== null) entry.detail = row.detail
      return entry
    })
  }

  async countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    const { rows } = await this.query(
      'count the audit trail',
      `SELECT (at / $2::bigint) * $2::bigint AS bucket, action, outcome, count(*) AS count
       FROM ${this.audit} WHERE at >= $1 GROUP BY 1, 2, 3`,
      [since, Math.floor(bucketMs)],
    )
    return rows.map((row) => ({
      bucket: Number(row.bucket),
      action: String(row.action),
      outcome: row.outcome,
      count: Number(row.count),
    }))
  }

  async pruneAudit(before: number): Promise<number> {
    const { rowCount } = await this.query(
      'prune the audit trail',
      `DELETE FROM ${this.audit} WHERE at < $1`,
      [before],
    )
    return rowCount ?? 0
  }

  async putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    await this.query(
      'save a document',
      `INSERT INTO ${this.documents} (collection, id, value) VALUES ($1, $2, $3)
       ON CONFLICT (collection, id) DO UPDATE SET value = EXCLUDED.value`,
      [collection, id, JSON.stringify(value)],
    )
  }

  async getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.query(
      'read a document',
      `SELECT value FROM ${this.documents} WHERE collection = $1 AND id = $2`,
      [collection, id],
    )
    return rows[0] ? (rows[0].value as Record<string, unknown>) : null
  }

  async listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    const { rows } = await this.query(
      'list documents',
      `SELECT id, value FROM ${this.documents} WHERE collection = $1 ORDER BY id`,
      [collection],
    )
    return rows.map((row) => ({ id: String(row.id), value: row.value as Record<string, unknown> }))
  }

  async deleteDocument(collection: string, id: string): Promise<boolean> {
    const { rowCount } = await this.query(
      'delete a document',
      `DELETE FROM ${this.documents} WHERE collection = $1 AND id = $2`,
      [collection, id],
    )
    return (rowCount ?? 0) > 0
  }

  async useDocumentOnce(
    collection: string,
    id: string,
    now: number,
  ): Promise<Record<string, unknown> | null> {
    // One conditional UPDATE: the row lock makes a concurrent second caller find `usedAt` set.
    const { rows } = await this.query(
      'use a document',
      `UPDATE ${this.documents} SET value = jsonb_set(value, '{usedAt}', to_jsonb($3::bigint))
       WHERE collection = $1 AND id = $2 AND NOT (value ? 'usedAt')
         AND jsonb_typeof(value -> 'expiresAt') = 'number' AND (value ->> 'expiresAt')::numeric > $3
       RETURNING value`,
      [collection, id, now],
    )
    return rows[0] ? (rows[0].value as Record<string, unknown>) : null
  }

  // The webhook outbox lives in postgres-outbox.ts.
  private outboxTable: PostgresOutbox | undefined
  get outbox(): PostgresOutbox {
    this.outboxTable ??= new PostgresOutbox(
      (operation, sql, values) => this.query(operation, sql, values),
      this.documents.replace(/innkeeper_documents$/, 'innkeeper_outbox'),
    )
    return this.outboxTable
  }

  sealSecret(plaintext: string, aad: string): string {
    return this.keyring.encrypt(plaintext, aad)
  }
  openSecret(sealed: string, aad: string): string {
    return this.keyring.decrypt(sealed, aad)
  }

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    if (this.closed) {
      throw new StoreError('store_unavailable', 'This PostgreSQL store was closed; open a new one.')
    }
    return this.changes.subscribe(listener).catch((error: unknown) => {
      throw storeFailure(error, `listen for changes in ${this.display}`)
    })
  }

  /** PostgreSQL commits are durable (its WAL); replication is the operator's. */
  async durabilityWarning(): Promise<string | undefined> {
    return undefined
  }

  async ping(): Promise<void> {
    await this.query('answer a ping', 'SELECT 1', [])
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.changes.shutdown()
    await this.pool.end()
  }

  /** Runs `work` in one transaction on one pooled client: committed if it returns, rolled back if it throws. */
  private async inTransaction<T>(operation: string, work: (query: PostgresQuery) => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new StoreError('store_unavailable', 'This PostgreSQL store was closed; open a new one.')
    }
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw storeFailure(error, `${operation} in ${this.display}`)
    }
    const query: PostgresQuery = async (step, sql, values) => {
      try {
        return await client.query(sql, values)
      } catch (error) {
        throw storeFailure(error, `${step} in ${this.display}`)
      }
    }
    try {
      await query(operation, 'BEGIN', [])
      const result = await work(query)
      await query(operation, 'COMMIT', [])
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: rows are plain objects whose columns we read by name
  private async query(operation: string, sql: string, values: unknown[]): Promise<pg.QueryResult<any>> {
    if (this.closed) {
      throw new StoreError('store_unavailable', 'This PostgreSQL store was closed; open a new one.')
    }
    try {
      return await this.pool.query(sql, values)
    } catch (error) {
      throw storeFailure(error, `${operation} in ${this.display}`)
    }
  }

  // BIGINT columns arrive as strings; the codec's decoders turn them into numbers.
  private appFromRow(row: Record<string, unknown>): AppRecord {
    return decodeApp(this.keyring, {
      name: row.name,
      provider: row.provider,
      clientId: row.client_id,
      clientSecret: row.client_secret,
      keyId: row.key_id,
      redirectUri: row.redirect_uri,
      scopes: row.scopes,
      settings: row.settings,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    } as EncodedApp)
  }

  private connectionFromRow(
    row: Record<string, unknown>,
    options: { tolerant?: boolean } = {},
  ): ConnectionRecord {
    return decodeConnection(
      this.keyring,
      {
        id: row.id,
        app: row.app,
        name: row.name,
        state: row.state,
        secrets: row.secrets,
        keyId: row.key_id,
        scopes: row.scopes,
        metadata: row.metadata,
        lastError: row.last_error,
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

  private pendingFromRow(row: Record<string, unknown>): PendingAuthorization {
    return decodePendingAuthorization(this.keyring, {
      state: row.state,
      app: row.app,
      name: row.name,
      redirectUri: row.redirect_uri,
      scopes: row.scopes,
      codeVerifier: row.code_verifier,
      keyId: row.key_id,
      options: row.options,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    } as EncodedPendingAuthorization)
  }
}

// biome-ignore lint/suspicious/noExplicitAny: rows are plain objects whose columns we read by name
type PostgresQuery = (operation: string, sql: string, values: unknown[]) => Promise<pg.QueryResult<any>>

/** The database server's time in ms since the epoch, fixed for one statement: the lease clock. */
const DB_NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint'

/** The tail of a connection-writing statement: tells listeners which row `saved` wrote, on commit. */
const NOTIFY_SAVED = (channelParam: string) =>
  `SELECT saved.version, pg_notify(${channelParam}, saved.id) FROM saved`

/** How long the changes listener waits before reconnecting after it lost its server. */
const LISTEN_RETRY_MS = 1_000

/**
 * The changes feed on PostgreSQL: one dedicated client LISTENs on the schema's channel (writes
 * NOTIFY in the same statement, so a notification goes out exactly when its change commits).
 * When the client is lost the feed is not live; it reconnects every second until it is.
 */
function postgresChangesSource(connectionString: string, channel: string): ChangesSource {
  let client: pg.Client | undefined
  let stopped = false
  let retry: NodeJS.Timeout | undefined
  const listen = async (hub: ChangesHub) => {
    const next = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 })
    next.on('error', () => undefined)
    next.on('notification', (message) => {
      if (message.channel === channel) hub.emit({ connection: message.payload || ANY_CONNECTION })
    })
    next.on('end', () => {
      if (client !== next || stopped) return
      client = undefined
      hub.setLive(false)
      scheduleRetry(hub)
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${quoteIdentifier(channel)}`)
    } catch (error) {
      await next.end().catch(() => undefined)
      throw error
    }
    if (stopped) {
      await next.end().catch(() => undefined)
      return
    }
    client = next
    hub.setLive(true)
  }
  const scheduleRetry = (hub: ChangesHub) => {
    retry = setTimeout(() => {
      retry = undefined
      if (!stopped) listen(hub).catch(() => scheduleRetry(hub))
    }, LISTEN_RETRY_MS)
    retry.unref()
  }
  return {
    async start(hub) {
      stopped = false
      await listen(hub)
    },
    async stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      const current = client
      client = undefined
      await current?.end().catch(() => undefined)
    },
  }
}

function leaseFromRow(row: Record<string, unknown>): Lease {
  return {
    key: String(row.key),
    owner: String(row.owner),
    fencingToken: Number(row.fencing_token),
    expiresAt: Number(row.expires_at),
  }
}

/** JSON text for a JSONB parameter (`pg` would send a JS array as a PostgreSQL array). */
function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value)
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'EAI_AGAIN',
])

/**
 * A StoreError for a failed PostgreSQL call. `where` names the operation and the password-free
 * URL; the driver's message is kept only for server errors (which never echo parameters) and
 * network errors, so no secret from a query or the URL reaches the message.
 */
function storeFailure(error: unknown, where: string): InnkeeperError {
  if (error instanceof InnkeeperError) return error
  const code =
    typeof error === 'object' && error !== null ? String((error as { code?: unknown }).code ?? '') : ''
  if (code === '23503') {
    const detail = String((error as { detail?: unknown }).detail ?? '')
    const app = /\(app\)=\((.*)\)/.exec(detail)?.[1] ?? 'unknown'
    return unknownAppError(app)
  }
  if (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03') {
    return new StoreError(
      'store_unavailable',
      `Could not ${where}: PostgreSQL is not reachable (${code}). Check that the server is running and the URL is right.`,
      { cause: error },
    )
  }
  if (code === '28P01' || code === '28000') {
    return new StoreError(
      'store_unavailable',
      `Could not ${where}: PostgreSQL refused the credentials. Check the user and password in the store URL.`,
    )
  }
  const reason =
    code && /^[0-9A-Z]{5}$/.test(code) && error instanceof Error ? `: ${error.message} (${code})` : ''
  return new StoreError(
    'store_unavailable',
    `Could not ${where}${reason}. Check that the database is up and the store URL points at it.`,
    { cause: code && /^[0-9A-Z]{5}$/.test(code) ? error : undefined },
  )
}
