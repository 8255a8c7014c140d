// The SQLite Store: the embedded default, one file (mode 0600) shared safely by every process on
// one machine. WAL journal, a busy timeout, foreign keys, versioned migrations run on open.
// Every read-check-write runs in one `BEGIN IMMEDIATE` transaction (`inWriteTransaction`,
// file.ts), which takes SQLite's single write lock before reading, so compare-and-swap saves,
// lease grants and claims are atomic across processes. better-sqlite3 is synchronous: each
// transaction runs to completion inside one method call and is never held across an `await`.
// The rest of the driver sits beside this file: file.ts (opening), migrations.ts, statements.ts,
// rows.ts, changes.ts (the changes feed), audit.ts, reseal.ts, outbox.ts, url.ts.

import type { Keyring } from '../../crypto/keyring.js'
import { ANY_CONNECTION, type ChangeListener, type ChangesSubscription } from '../changes.js'
import {
  encodeApp,
  encodeConnection,
  encodePendingAuthorization,
  unknownAppError,
  versionConflictError,
} from '../codec.js'
import { appFromRow, connectionFromRow, leaseFromRow, pendingFromRow, type Row } from '../kit/rows.js'
import type { OutboxEntryInput } from '../outbox.js'
import {
  type AppRecord,
  type AuditCount,
  type AuditEntry,
  type ClaimedConnection,
  type ConnectionRecord,
  type Lease,
  type LeasedConnection,
  type ListAuditFilter,
  type ListConnectionsFilter,
  type PendingAuthorization,
  type ReencryptResult,
  refreshLeaseKey,
  type Store,
} from '../store.js'
import { SqliteAuditTrail } from './audit.js'
import { SqliteChangesFeed } from './changes.js'
import { sqliteStep } from './errors.js'
import { type Db, inWriteTransaction, openDatabaseFile, preparingFailed } from './file.js'
import { migrate } from './migrations.js'
import { SqliteOutbox } from './outbox.js'
import { countSqliteSecretsByKeyId, reencryptSqliteSecrets } from './reseal.js'
import {
  appParams,
  type ConnectionRow,
  connectionParams,
  type LeaseRow,
  type PendingRow,
  pendingParams,
} from './rows.js'
import { prepareStatements, type SqliteStatements } from './statements.js'

export interface SqliteStoreOptions {
  keyring: Keyring
  /** How long to wait for another process's write lock before failing; default 10 s. */
  busyTimeoutMs?: number
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000

/** Opens (creating if needed, mode 0600) the SQLite file at `path` and brings its schema up to date. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions): Promise<SqliteStore> {
  const db = openDatabaseFile(path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)
  try {
    migrate(db)
  } catch (error) {
    db.close()
    throw preparingFailed(path, error)
  }
  return new SqliteStore(db, path, options.keyring)
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  readonly leaseClock = 'caller' as const
  private readonly statements: SqliteStatements
  private readonly changes: SqliteChangesFeed
  private readonly audit: SqliteAuditTrail

  constructor(
    private readonly db: Db,
    /** The database file (its `-wal` and `-shm` companions sit next to it). */
    readonly path: string,
    private readonly keyring: Keyring,
  ) {
    this.statements = prepareStatements(db)
    this.changes = new SqliteChangesFeed(
      db,
      this.statements.selectConnectionStamps,
      this.statements.selectAllDocuments,
    )
    this.audit = new SqliteAuditTrail(db, this.statements)
  }

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    return this.changes.subscribe(listener)
  }

  async putApp(app: AppRecord): Promise<void> {
    const params = appParams(encodeApp(this.keyring, app))
    sqliteStep('save an app', () => this.statements.upsertApp.run(params))
  }

  async getApp(name: string): Promise<AppRecord | null> {
    const row = sqliteStep('read an app', () => this.statements.selectApp.get(name) as Row | undefined)
    return row ? appFromRow(this.keyring, row, 'text') : null
  }

  async listApps(): Promise<AppRecord[]> {
    const rows = sqliteStep('list apps', () => this.statements.selectApps.all() as Row[])
    return rows.map((row) => appFromRow(this.keyring, row, 'text'))
  }

  async deleteApp(name: string): Promise<boolean> {
    // Connections and pending authorizations go with it (ON DELETE CASCADE, same statement).
    const deleted = sqliteStep('delete an app', () => this.statements.deleteApp.run(name).changes > 0)
    if (deleted) this.changes.emit(ANY_CONNECTION)
    return deleted
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    const row = sqliteStep(
      'read a connection',
      () => this.statements.selectConnection.get(id) as ConnectionRow | undefined,
    )
    if (row) this.changes.noteRead(row)
    return row ? connectionFromRow(this.keyring, row, 'text') : null
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    const rows = sqliteStep('list connections', () =>
      filter.app === undefined
        ? (this.statements.selectConnections.all() as ConnectionRow[])
        : (this.statements.selectConnectionsOfApp.all(filter.app) as ConnectionRow[]),
    )
    for (const row of rows) this.changes.noteRead(row)
    return rows.map((row) => connectionFromRow(this.keyring, row, 'text', { tolerant: true }))
  }

  async saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
    release?: Lease,
  ): Promise<ConnectionRecord> {
    const encoded = encodeConnection(this.keyring, record)
    const { statements } = this
    const version = sqliteStep('save a connection', () =>
      inWriteTransaction(this.db, () => {
        if (!statements.appExists.get(record.app)) throw unknownAppError(record.app)
        const stored = statements.selectConnectionVersion.get(record.id) as { version: number } | undefined
        const storedVersion = stored?.version ?? 0
        if (expectedVersion !== undefined && storedVersion !== expectedVersion) {
          throw versionConflictError(record.id, expectedVersion, storedVersion)
        }
        const nextVersion = storedVersion + 1
        statements.upsertConnection.run(connectionParams({ ...encoded, version: nextVersion }))
        // The events this change causes commit with it, in the same transaction.
        this.outbox.insertInTransaction(outbox)
        if (release) statements.releaseLease.run(leaseParams(release))
        return nextVersion
      }),
    )
    this.changes.noteSeen({ id: record.id, version, updated_at: record.updatedAt })
    this.changes.emit(record.id)
    return { ...structuredClone(record), version }
  }

  async deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    const deleted = sqliteStep('delete a connection', () =>
      inWriteTransaction(this.db, () => {
        if (this.statements.deleteConnection.run(id).changes === 0) return false
        // The events of this delete commit with it, in the same transaction.
        this.outbox.insertInTransaction(outbox)
        return true
      }),
    )
    if (deleted) this.changes.emit(id)
    return deleted
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    const params = pendingParams(encodePendingAuthorization(this.keyring, pending))
    const { statements } = this
    sqliteStep('save a pending authorization', () =>
      inWriteTransaction(this.db, () => {
        if (!statements.appExists.get(pending.app)) throw unknownAppError(pending.app)
        statements.upsertPending.run(params)
      }),
    )
  }

  async takePendingAuthorization(state: string, now: number): Promise<PendingAuthorization | null> {
    // One DELETE … RETURNING statement: atomic on its own, so only one taker ever sees the row.
    const row = sqliteStep(
      'take a pending authorization',
      () => this.statements.deletePendingReturning.get(state) as PendingRow | undefined,
    )
    if (!row || row.expires_at <= now) return null
    return pendingFromRow(this.keyring, row, 'text')
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    const row = sqliteStep(
      'read pending authorizations',
      () => this.statements.selectLatestPending.get(app, now) as PendingRow | undefined,
    )
    return row ? pendingFromRow(this.keyring, row, 'text') : null
  }

  async acquireLease(key: string, owner: string, ttlMs: number, now: number): Promise<Lease | null> {
    return sqliteStep('acquire a lease', () =>
      this.withoutFsync(() =>
        inWriteTransaction(this.db, () => this.acquireLeaseInTransaction(key, owner, ttlMs, now)),
      ),
    )
  }

  async leaseConnection(id: string, owner: string, ttlMs: number, now: number): Promise<LeasedConnection> {
    // One transaction: the lease and the read under the write lock, so no commit comes between.
    const { lease, row } = sqliteStep('lease a connection', () =>
      this.withoutFsync(() =>
        inWriteTransaction(this.db, () => {
          const row = this.statements.selectConnection.get(id) as ConnectionRow | undefined
          const lease = row ? this.acquireLeaseInTransaction(refreshLeaseKey(id), owner, ttlMs, now) : null
          return { lease, row }
        }),
      ),
    )
    if (!row) return { lease: null, record: null }
    this.changes.noteRead(row)
    return { lease, record: connectionFromRow(this.keyring, row, 'text') }
  }

  async renewLease(lease: Lease, ttlMs: number, now: number): Promise<boolean> {
    return sqliteStep(
      'renew a lease',
      () =>
        this.withoutFsync(() =>
          this.statements.renewLease.run({
            key: lease.key,
            owner: lease.owner,
            fencing_token: lease.fencingToken,
            expires_at: now + ttlMs,
          }),
        ).changes === 1,
    )
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    return sqliteStep(
      'release a lease',
      () => this.withoutFsync(() => this.statements.releaseLease.run(leaseParams(lease))).changes === 1,
    )
  }

  async getLease(key: string, now: number): Promise<Lease | null> {
    const row = sqliteStep(
      'read a lease',
      () => this.statements.selectHeldLease.get(key, now) as LeaseRow | undefined,
    )
    return row ? leaseFromRow(row) : null
  }

  async claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]> {
    if (limit <= 0) return []
    return sqliteStep('claim due connections', () =>
      this.withoutFsync(() =>
        inWriteTransaction(this.db, () => {
          const rows = this.statements.selectClaimable.all({ now, limit }) as ConnectionRow[]
          // Decoded tolerantly: a record sealed with a key this process lacks comes back marked
          // `unreadable` (its lease taken, so the refresher can leave it to lapse) instead of
          // failing the whole claim and stopping every other connection's refresh.
          return rows.map((row) => {
            this.changes.noteRead(row)
            const connection = connectionFromRow(this.keyring, row, 'text', { tolerant: true })
            const lease = this.acquireLeaseInTransaction(refreshLeaseKey(row.id), owner, leaseMs, now)
            if (!lease)
              throw new Error('a claimable connection had a held lease inside the claim transaction')
            return { connection, lease }
          })
        }),
      ),
    )
  }

  /** How many stored secrets each key id sealed (for key rotation). */
  async countSecretsByKeyId(): Promise<Record<string, number>> {
    return countSqliteSecretsByKeyId(this.statements)
  }

  async reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    return reencryptSqliteSecrets(this.keyring, this.statements, cursor, limit)
  }

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    // Without an fsync: under the token API's load one per batch was ~10 % of the event loop.
    this.withoutFsync(() => this.audit.append(entries))
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    return this.audit.list(filter)
  }

  async countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return this.audit.count(since, bucketMs)
  }

  async pruneAudit(before: number): Promise<number> {
    return this.audit.prune(before)
  }

  async putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(value)
    sqliteStep('save a document', () => this.statements.upsertDocument.run({ collection, id, value: json }))
    this.changes.noteDocument(collection, id, json, true)
  }

  async getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    const row = sqliteStep(
      'read a document',
      () => this.statements.selectDocument.get(collection, id) as { value: string } | undefined,
    )
    this.changes.noteDocument(collection, id, row?.value)
    return row ? (JSON.parse(row.value) as Record<string, unknown>) : null
  }

  async listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    const rows = sqliteStep(
      'list documents',
      () => this.statements.selectDocuments.all(collection) as Array<{ id: string; value: string }>,
    )
    return rows.map((row) => ({ id: row.id, value: JSON.parse(row.value) as Record<string, unknown> }))
  }

  async deleteDocument(collection: string, id: string): Promise<boolean> {
    const deleted = sqliteStep(
      'delete a document',
      () => this.statements.deleteDocument.run(collection, id).changes > 0,
    )
    if (deleted) this.changes.noteDocument(collection, id, undefined, true)
    return deleted
  }

  async useDocumentOnce(
    collection: string,
    id: string,
    now: number,
  ): Promise<Record<string, unknown> | null> {
    // One conditional UPDATE: SQLite serialises writers, so a second caller finds `usedAt` set.
    const row = sqliteStep(
      'use a document',
      () => this.statements.useDocumentOnce.get({ collection, id, now }) as { value: string } | undefined,
    )
    if (row) this.changes.noteDocument(collection, id, row.value, true)
    return row ? (JSON.parse(row.value) as Record<string, unknown>) : null
  }

  // The webhook outbox (outbox.ts), prepared on first use; its entries commit in the same
  // transactions as the saves that cause them.
  private outboxTable: SqliteOutbox | undefined
  get outbox(): SqliteOutbox {
    this.outboxTable ??= new SqliteOutbox(this.db)
    return this.outboxTable
  }

  /** A committed SQLite transaction is on disk (WAL, synchronous writes). */
  async durabilityWarning(): Promise<string | undefined> {
    return undefined
  }

  async ping(): Promise<void> {
    sqliteStep('answer a ping', () => this.statements.ping.get())
  }

  async close(): Promise<void> {
    await this.changes.shutdown()
    if (this.db.open) this.db.close()
  }

  /**
   * Runs a write of leases only, or of an audit batch, without waiting for the disk
   * (`synchronous = NORMAL` for it, FULL again after). In WAL mode that commit survives any crash
   * of a process and is seen by every other one; only a power cut or OS crash can take it back.
   * That also ends every process on this machine, so no lease holder is left to be wronged (the
   * lease is simply free afterwards); an audit batch already waited up to 50 ms in memory, where
   * any crash loses it, and the next FULL commit (a token set's) puts it on disk too. Records, apps,
   * documents and the outbox keep FULL: a committed token set survives a power cut.
   */
  private withoutFsync<T>(work: () => T): T {
    this.statements.syncNormal.run()
    try {
      return work()
    } finally {
      this.statements.syncFull.run()
    }
  }

  /** Call only inside an immediate transaction. */
  private acquireLeaseInTransaction(key: string, owner: string, ttlMs: number, now: number): Lease | null {
    const row = this.statements.selectLease.get(key) as LeaseRow | undefined
    if (row && row.owner !== null && row.expires_at > now) return null
    const lease: Lease = { key, owner, fencingToken: (row?.fencing_token ?? 0) + 1, expiresAt: now + ttlMs }
    this.statements.upsertLease.run({
      key,
      owner,
      fencing_token: lease.fencingToken,
      expires_at: lease.expiresAt,
    })
    return lease
  }
}

/** A held lease as the release statement names it. */
function leaseParams(lease: Lease): Record<string, string | number> {
  return { key: lease.key, owner: lease.owner, fencing_token: lease.fencingToken }
}
