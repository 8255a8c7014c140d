// The PostgreSQL store: many worker processes on many machines share one database as the store
// and the coordination point. Versions make every connection write a compare-and-swap, leases
// are rows with fencing tokens from a sequence, and the background refresher claims due
// connections with `FOR UPDATE SKIP LOCKED`. Every secret is encrypted with the keyring before
// it leaves the process. This file opens the store and holds apps, pending authorizations and
// reads; the driver's other files in this folder hold the rest (see each one's first lines).
//
// URL: postgres://user:password@host:5432/db?schema=innkeeper (see url.ts); every table is
// named `innkeeper_*` (see migrations.ts).

import pg from 'pg'
import type { Keyring } from '../../crypto/keyring.js'
import { ANY_CONNECTION, type ChangeListener, ChangesHub, type ChangesSubscription } from '../changes.js'
import { encodeApp, encodePendingAuthorization } from '../codec.js'
import { appFromRow, connectionFromRow, pendingFromRow } from '../kit/rows.js'
import type { OutboxEntryInput } from '../outbox.js'
import type {
  AppRecord,
  AuditCount,
  AuditEntry,
  ClaimedConnection,
  ConnectionRecord,
  Lease,
  LeasedConnection,
  ListAuditFilter,
  ListConnectionsFilter,
  PendingAuthorization,
  ReencryptResult,
  Store,
} from '../store.js'
import * as audit from './audit.js'
import { postgresChangesSource } from './changes.js'
import { CONNECTION_COLUMNS, deleteConnection, saveConnection } from './connections.js'
import { json, PostgresDatabase } from './database.js'
import * as documents from './documents.js'
import { storeFailure } from './errors.js'
import * as leases from './leases.js'
import { migratePostgresSchema } from './migrations.js'
import { PostgresOutbox } from './outbox.js'
import { countSecretsByKeyId, reencryptSecrets } from './reseal.js'
import { type PostgresTarget, parsePostgresUrl } from './url.js'

export interface PostgresStoreOptions {
  keyring: Keyring
  /** Schema holding the tables; overrides `?schema=`. Created if missing. */
  schema?: string
  /** Most connections the pool opens (default 10). */
  maxConnections?: number
}

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

class PostgresStore implements Store {
  readonly kind = 'postgres' as const
  readonly leaseClock = 'server' as const
  readonly outbox: PostgresOutbox
  private readonly db: PostgresDatabase
  private readonly changes: ChangesHub

  constructor(
    pool: pg.Pool,
    target: PostgresTarget,
    private readonly keyring: Keyring,
  ) {
    this.db = new PostgresDatabase(pool, target)
    this.changes = new ChangesHub(postgresChangesSource(target.connectionString, this.db.channel))
    this.outbox = new PostgresOutbox(this.db.query, this.db.tables.outbox)
  }

  async putApp(app: AppRecord): Promise<void> {
    const row = encodeApp(this.keyring, app)
    await this.db.query(
      'save an app',
      `INSERT INTO ${this.db.tables.apps} (name, provider, client_id, redirect_uri, scopes, settings, client_secret, key_id, created_at, updated_at)
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
    const { rows } = await this.db.query(
      'read an app',
      `SELECT * FROM ${this.db.tables.apps} WHERE name = $1`,
      [name],
    )
    return rows[0] ? appFromRow(this.keyring, rows[0], 'parsed') : null
  }

  async listApps(): Promise<AppRecord[]> {
    const { rows } = await this.db.query(
      'list apps',
      `SELECT * FROM ${this.db.tables.apps} ORDER BY name`,
      [],
    )
    return rows.map((row) => appFromRow(this.keyring, row, 'parsed'))
  }

  async deleteApp(name: string): Promise<boolean> {
    // Connections and pending authorizations go with it (ON DELETE CASCADE), in one statement.
    const { rowCount } = await this.db.query(
      'delete an app',
      `WITH gone AS (DELETE FROM ${this.db.tables.apps} WHERE name = $1 RETURNING name)
       SELECT pg_notify($2, '${ANY_CONNECTION}') FROM gone`,
      [name, this.db.channel],
    )
    return (rowCount ?? 0) > 0
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    const { rows } = await this.db.prepared(
      'read a connection',
      `SELECT ${CONNECTION_COLUMNS} FROM ${this.db.tables.connections} WHERE id = $1`,
      [id],
    )
    return rows[0] ? connectionFromRow(this.keyring, rows[0], 'parsed') : null
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    const table = this.db.tables.connections
    const { rows } =
      filter.app === undefined
        ? await this.db.query('list connections', `SELECT * FROM ${table} ORDER BY id`, [])
        : await this.db.query('list connections', `SELECT * FROM ${table} WHERE app = $1 ORDER BY id`, [
            filter.app,
          ])
    return rows.map((row) => connectionFromRow(this.keyring, row, 'parsed', { tolerant: true }))
  }

  saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
    release?: Lease,
  ): Promise<ConnectionRecord> {
    return saveConnection(this.db, this.keyring, record, expectedVersion, outbox, release)
  }

  deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    return deleteConnection(this.db, id, outbox)
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    const row = encodePendingAuthorization(this.keyring, pending)
    await this.db.query(
      'save a pending authorization',
      `INSERT INTO ${this.db.tables.pending} (state, app, name, redirect_uri, scopes, options, code_verifier, key_id, created_at, expires_at)
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
    const { rows } = await this.db.query(
      'take a pending authorization',
      `DELETE FROM ${this.db.tables.pending} WHERE state = $1 RETURNING *`,
      [state],
    )
    const row = rows[0]
    if (!row || Number(row.expires_at) <= now) return null
    return pendingFromRow(this.keyring, row, 'parsed')
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    const { rows } = await this.db.query(
      'find the latest pending authorization',
      `SELECT * FROM ${this.db.tables.pending} WHERE app = $1 AND expires_at > $2 ORDER BY created_at DESC LIMIT 1`,
      [app, now],
    )
    return rows[0] ? pendingFromRow(this.keyring, rows[0], 'parsed') : null
  }

  // Leases are judged by the database server's clock: the caller's `now` is not used.
  acquireLease(key: string, owner: string, ttlMs: number, _now: number): Promise<Lease | null> {
    return leases.acquireLease(this.db, key, owner, ttlMs)
  }
  leaseConnection(id: string, owner: string, ttlMs: number, _now: number): Promise<LeasedConnection> {
    return leases.leaseConnection(this.db, this.keyring, id, owner, ttlMs)
  }
  renewLease(lease: Lease, ttlMs: number, _now: number): Promise<boolean> {
    return leases.renewLease(this.db, lease, ttlMs)
  }
  releaseLease(lease: Lease): Promise<boolean> {
    return leases.releaseLease(this.db, lease)
  }
  getLease(key: string, _now: number): Promise<Lease | null> {
    return leases.getLease(this.db, key)
  }
  claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]> {
    return leases.claimDueConnections(this.db, this.keyring, now, limit, owner, leaseMs)
  }

  countSecretsByKeyId(): Promise<Record<string, number>> {
    return countSecretsByKeyId(this.db)
  }
  reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    return reencryptSecrets(this.db, this.keyring, cursor, limit)
  }

  appendAudit(entries: AuditEntry[]): Promise<void> {
    return audit.appendAudit(this.db, entries)
  }
  listAudit(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    return audit.listAudit(this.db, filter)
  }
  countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return audit.countAudit(this.db, since, bucketMs)
  }
  pruneAudit(before: number): Promise<number> {
    return audit.pruneAudit(this.db, before)
  }

  putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    return documents.putDocument(this.db, collection, id, value)
  }
  getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    return documents.getDocument(this.db, collection, id)
  }
  listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    return documents.listDocuments(this.db, collection)
  }
  deleteDocument(collection: string, id: string): Promise<boolean> {
    return documents.deleteDocument(this.db, collection, id)
  }
  useDocumentOnce(collection: string, id: string, now: number): Promise<Record<string, unknown> | null> {
    return documents.useDocumentOnce(this.db, collection, id, now)
  }

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    this.db.checkOpen()
    return this.changes.subscribe(listener).catch((error: unknown) => {
      throw storeFailure(error, `listen for changes in ${this.db.display}`)
    })
  }

  /** PostgreSQL commits are durable (its WAL); replication is the operator's. */
  async durabilityWarning(): Promise<string | undefined> {
    return undefined
  }

  async ping(): Promise<void> {
    await this.db.query('answer a ping', 'SELECT 1', [])
  }

  async close(): Promise<void> {
    if (this.db.isClosed) return
    this.db.markClosed()
    await this.changes.shutdown()
    await this.db.end()
  }
}
