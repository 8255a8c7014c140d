// The SQLite Store: the embedded default, one file (mode 0600) shared safely by every process on
// one machine. WAL journal, a busy timeout, foreign keys, versioned migrations run on open.
// Every read-check-write runs in one `BEGIN IMMEDIATE` transaction (better-sqlite3's
// `.immediate()`), which takes SQLite's single write lock before reading, so compare-and-swap
// saves, lease grants and claims are atomic across processes. better-sqlite3 is synchronous: each
// transaction runs to completion inside one method call and is never held across an `await`.

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import type { Keyring } from '../crypto/keyring.js'
import { InnkeeperError, StoreError } from '../errors.js'
import { ANY_CONNECTION, type ChangeListener, ChangesHub, type ChangesSubscription } from './changes.js'
import {
  decodeApp,
  decodeConnection,
  decodePendingAuthorization,
  type EncodedConnection,
  type EncodedPendingAuthorization,
  encodeApp,
  encodeConnection,
  encodePendingAuthorization,
  unknownAppError,
  versionConflictError,
} from './codec.js'
import { SQLITE_MIGRATIONS, type SqliteMigration } from './migrations/sqlite.js'
import type { OutboxEntryInput } from './outbox.js'
import { type ResealPhase, reencryptInPhases, type SealedKind } from './reseal.js'
import { SqliteOutbox } from './sqlite-outbox.js'
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

export interface SqliteStoreOptions {
  keyring: Keyring
  /** How long to wait for another process's write lock before failing; default 10 s. */
  busyTimeoutMs?: number
}

type Db = Database.Database

interface AppRow {
  name: string
  provider: string
  client_id: string
  client_secret: string
  client_secret_key_id: string
  redirect_uri: string | null
  scopes: string | null
  settings: string
  created_at: number
  updated_at: number
}

interface ConnectionRow {
  id: string
  app: string
  name: string
  state: EncodedConnection['state']
  secrets: string
  secrets_key_id: string
  scopes: string
  metadata: string
  last_error: string | null
  failures: number
  refresh_due_at: number | null
  created_at: number
  updated_at: number
  last_refresh_at: number | null
  version: number
}

interface PendingRow {
  state: string
  app: string
  name: string
  redirect_uri: string
  scopes: string
  code_verifier: string | null
  code_verifier_key_id: string | null
  options: string
  created_at: number
  expires_at: number
}

interface LeaseRow {
  key: string
  owner: string | null
  fencing_token: number
  expires_at: number
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000
/** How often the changes feed looks whether another process committed (well within 1 s). */
const SQLITE_CHANGES_POLL_MS = 200

/** Opens (creating if needed, mode 0600) the SQLite file at `path` and brings its schema up to date. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions): Promise<SqliteStore> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (path !== ':memory:') createPrivateFile(path)
  let db: Db
  try {
    db = new Database(path, NATIVE_BINDING ? { nativeBinding: NATIVE_BINDING } : {})
  } catch (error) {
    throw storeFailure(`open the SQLite file ${path}`, error)
  }
  try {
    configure(db, busyTimeoutMs)
    migrate(db, SQLITE_MIGRATIONS)
  } catch (error) {
    db.close()
    throw error instanceof InnkeeperError ? error : storeFailure(`prepare the SQLite file ${path}`, error)
  }
  return new SqliteStore(db, path, options.keyring)
}

/**
 * better-sqlite3's compiled addon, named directly: its default lookup (the `bindings` package)
 * reads a stack trace and tries a list of build folders, ~20 ms of every CLI start. Another
 * build layout (none at this path) keeps the default lookup.
 */
const NATIVE_BINDING = (() => {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))
    const addon = join(root, 'build', 'Release', 'better_sqlite3.node')
    return existsSync(addon) ? addon : undefined
  } catch {
    return undefined
  }
})()

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  readonly leaseClock = 'caller' as const
  private readonly statements

  constructor(
    private readonly db: Db,
    /** The database file (its `-wal` and `-shm` companions sit next to it). */
    readonly path: string,
    private readonly keyring: Keyring,
  ) {
    this.statements = prepareStatements(db)
  }

  // The changes feed: this handle's own writes are announced as they commit; other processes'
  // are found by polling `PRAGMA data_version` (it moves when another connection commits) and
  // then comparing each connection's version and update time with the last look.
  private readonly changes = new ChangesHub({
    start: async (hub) => {
      let dataVersion = this.db.pragma('data_version', { simple: true }) as number
      this.changesSeen = this.connectionVersions()
      this.changesTimer = setInterval(() => {
        try {
          if (!this.db.open) return
          const now = this.db.pragma('data_version', { simple: true }) as number
          if (now === dataVersion) return
          dataVersion = now
          const current = this.connectionVersions()
          const seen = this.changesSeen ?? new Map<string, string>()
          for (const [id, stamp] of current) if (seen.get(id) !== stamp) hub.emit({ connection: id })
          for (const id of seen.keys()) if (!current.has(id)) hub.emit({ connection: id })
          this.changesSeen = current
          hub.setLive(true)
        } catch {
          // The file is busy or gone: say nothing is certain until a look succeeds again.
          hub.setLive(false)
        }
      }, SQLITE_CHANGES_POLL_MS)
      this.changesTimer.unref()
      hub.setLive(true)
    },
    stop: async () => {
      if (this.changesTimer) clearInterval(this.changesTimer)
      this.changesTimer = undefined
      this.changesSeen = undefined
    },
  })
  private changesTimer: NodeJS.Timeout | undefined
  /**
   * Each connection's `version:updated_at` as the feed last saw it, kept up to date by this
   * handle's reads too: a connection read here and changed (or deleted) by another process
   * before the next look is always reported, even one created after the previous look.
   */
  private changesSeen: Map<string, string> | undefined

  private noteSeen(row: { id: string; version: number; updated_at: number }): void {
    this.changesSeen?.set(row.id, `${row.version}:${row.updated_at}`)
  }

  /**
   * Notes a connection as read here. A stamp that differs from the one the feed last saw means
   * another process changed it since the last look; that look will now find nothing new, so the
   * change is announced here instead (a cache elsewhere in this process may hold the old record).
   */
  private noteRead(row: { id: string; version: number; updated_at: number }): void {
    const previous = this.changesSeen?.get(row.id)
    this.noteSeen(row)
    if (previous !== undefined && previous !== `${row.version}:${row.updated_at}`)
      this.changes.emit({ connection: row.id })
  }

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    return this.changes.subscribe(listener)
  }

  private connectionVersions(): Map<string, string> {
    const rows = this.statements.selectConnectionStamps.all() as Array<{
      id: string
      version: number
      updated_at: number
    }>
    return new Map(rows.map((row) => [row.id, `${row.version}:${row.updated_at}`]))
  }

  async putApp(app: AppRecord): Promise<void> {
    const encoded = encodeApp(this.keyring, app)
    this.guard('save an app', () =>
      this.statements.upsertApp.run({
        name: encoded.name,
        provider: encoded.provider,
        client_id: encoded.clientId,
        client_secret: encoded.clientSecret,
        client_secret_key_id: encoded.keyId,
        redirect_uri: encoded.redirectUri,
        scopes: encoded.scopes === null ? null : JSON.stringify(encoded.scopes),
        settings: JSON.stringify(encoded.settings),
        created_at: encoded.createdAt,
        updated_at: encoded.updatedAt,
      }),
    )
  }

  async getApp(name: string): Promise<AppRecord | null> {
    const row = this.guard('read an app', () => this.statements.selectApp.get(name) as AppRow | undefined)
    return row ? this.appFromRow(row) : null
  }

  async listApps(): Promise<AppRecord[]> {
    const rows = this.guard('list apps', () => this.statements.selectApps.all() as AppRow[])
    return rows.map((row) => this.appFromRow(row))
  }

  async deleteApp(name: string): Promise<boolean> {
    // Connections and pending authorizations go with it (ON DELETE CASCADE, same statement).
    const deleted = this.guard('delete an app', () => this.statements.deleteApp.run(name).changes > 0)
    if (deleted) this.changes.emit({ connection: ANY_CONNECTION })
    return deleted
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    const row = this.guard(
      'read a connection',
      () => this.statements.selectConnection.get(id) as ConnectionRow | undefined,
    )
    if (row) this.noteRead(row)
    return row ? this.connectionFromRow(row) : null
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    const rows = this.guard('list connections', () =>
      filter.app === undefined
        ? (this.statements.selectConnections.all() as ConnectionRow[])
        : (this.statements.selectConnectionsOfApp.all(filter.app) as ConnectionRow[]),
    )
    for (const row of rows) this.noteRead(row)
    return rows.map((row) => this.connectionFromRow(row, { tolerant: true }))
  }

  async saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
  ): Promise<ConnectionRecord> {
    const encoded = encodeConnection(this.keyring, record)
    const { statements } = this
    const version = this.guard('save a connection', () =>
      this.db
        .transaction(() => {
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
          return nextVersion
        })
        .immediate(),
    )
    this.noteSeen({ id: record.id, version, updated_at: record.updatedAt })
    this.changes.emit({ connection: record.id })
    return { ...structuredClone(record), version }
  }

  async deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    const deleted = this.guard('delete a connection', () =>
      this.db
        .transaction(() => {
          if (this.statements.deleteConnection.run(id).changes === 0) return false
          // The events of this delete commit with it, in the same transaction.
          this.outbox.insertInTransaction(outbox)
          return true
        })
        .immediate(),
    )
    if (deleted) this.changes.emit({ connection: id })
    return deleted
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    const encoded = encodePendingAuthorization(this.keyring, pending)
    const { statements } = this
    this.guard('save a pending authorization', () =>
      this.db
        .transaction(() => {
          if (!statements.appExists.get(pending.app)) throw unknownAppError(pending.app)
          statements.upsertPending.run({
            state: encoded.state,
            app: encoded.app,
            name: encoded.name,
            redirect_uri: encoded.redirectUri,
            scopes: JSON.stringify(encoded.scopes),
            code_verifier: encoded.codeVerifier,
            code_verifier_key_id: encoded.keyId,
            options: JSON.stringify(encoded.options),
            created_at: encoded.createdAt,
            expires_at: encoded.expiresAt,
          })
        })
        .immediate(),
    )
  }

  async takePendingAuthorization(state: string, now: number): Promise<PendingAuthorization | null> {
    // One DELETE … RETURNING statement: atomic on its own, so only one taker ever sees the row.
    const row = this.guard(
      'take a pending authorization',
      () => this.statements.deletePendingReturning.get(state) as PendingRow | undefined,
    )
    if (!row || row.expires_at <= now) return null
    return this.pendingFromRow(row)
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    const row = this.guard(
      'read pending authorizations',
      () => this.statements.selectLatestPending.get(app, now) as PendingRow | undefined,
    )
    return row ? this.pendingFromRow(row) : null
  }

  async acquireLease(key: string, owner: string, ttlMs: number, now: number): Promise<Lease | null> {
    return this.guard('acquire a lease', () =>
      this.db.transaction(() => this.acquireLeaseInTransaction(key, owner, ttlMs, now)).immediate(),
    )
  }

  async renewLease(lease: Lease, ttlMs: number, now: number): Promise<boolean> {
    return this.guard(
      'renew a lease',
      () =>
        this.statements.renewLease.run({
          key: lease.key,
          owner: lease.owner,
          fencing_token: lease.fencingToken,
          expires_at: now + ttlMs,
        }).changes === 1,
    )
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    return this.guard(
      'release a lease',
      () =>
        this.statements.releaseLease.run({
          key: lease.key,
          owner: lease.owner,
          fencing_token: lease.fencingToken,
        }).changes === 1,
    )
  }

  async getLease(key: string, now: number): Promise<Lease | null> {
    const row = this.guard(
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
    return this.guard('claim due connections', () =>
      this.db
        .transaction(() => {
          const rows = this.statements.selectClaimable.all({ now, limit }) as ConnectionRow[]
          // Decoded tolerantly: a record sealed with a key this process lacks comes back marked
          // `unreadable` (its lease taken, so the refresher can leave it to lapse) instead of
          // failing the whole claim and stopping every other connection's refresh.
          return rows.map((row) => {
            this.noteRead(row)
            const connection = this.connectionFromRow(row, { tolerant: true })
            const lease = this.acquireLeaseInTransaction(refreshLeaseKey(row.id), owner, leaseMs, now)
            if (!lease)
              throw new Error('a claimable connection had a held lease inside the claim transaction')
            return { connection, lease }
          })
        })
        .immediate(),
    )
  }

  /** How many stored secrets each key id sealed (for key rotation). */
  async countSecretsByKeyId(): Promise<Record<string, number>> {
    const rows = this.guard(
      'count secrets by key id',
      () => this.statements.countByKeyId.all() as Array<{ key_id: string; count: number }>,
    )
    const counts: Record<string, number> = {}
    for (const { key_id, count } of rows) counts[key_id] = (counts[key_id] ?? 0) + count
    return counts
  }

  async reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    const { statements } = this
    const phase = (kind: SealedKind, list: Database.Statement, swap: Database.Statement): ResealPhase => ({
      kind,
      list: async (after, count, currentKeyId) =>
        this.guard('list secrets to re-encrypt', () =>
          count <= 0
            ? []
            : (list.all(currentKeyId, after, count) as Array<{
                id: string
                sealed: string
                version?: number
              }>),
        ),
      swap: async (candidate, resealed, keyId) =>
        this.guard(
          're-encrypt a secret',
          () =>
            swap.run({
              id: candidate.id,
              sealed: candidate.sealed,
              resealed,
              key_id: keyId,
              version: candidate.version ?? 0,
            }).changes > 0,
        ),
    })
    return reencryptInPhases(
      this.keyring,
      {
        app: phase('app', statements.resealAppsList, statements.resealAppSwap),
        connection: phase('connection', statements.resealConnectionsList, statements.resealConnectionSwap),
        pending: phase('pending', statements.resealPendingList, statements.resealPendingSwap),
      },
      cursor,
      limit,
    )
  }

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    // One transaction (one fsync) for the whole batch.
    this.guard('append to the audit trail', () =>
      this.db.transaction(() => {
        for (const entry of entries) {
          this.statements.insertAudit.run({
            id: entry.id,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            connection: entry.connection ?? null,
            outcome: entry.outcome,
            detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
          })
        }
      })(),
    )
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    const rows = this.guard(
      'read the audit trail',
      () =>
        this.statements.selectAudit.all({
          connection: filter.connection ?? null,
          since: filter.since ?? null,
          limit: filter.limit ?? 100,
        }) as AuditRow[],
    )
    return rows.map(auditFromRow)
  }

  async countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    const rows = this.guard(
      'count the audit trail',
      () =>
        this.statements.countAudit.all({ since, bucket: Math.floor(bucketMs) }) as Array<{
          bucket: number
          action: string
          outcome: AuditEntry['outcome']
          count: number
        }>,
    )
    return rows.map((row) => ({ ...row, bucket: Number(row.bucket), count: Number(row.count) }))
  }

  async pruneAudit(before: number): Promise<number> {
    return this.guard('prune the audit trail', () => this.statements.pruneAudit.run(before).changes)
  }

  async putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(value)
    this.guard('save a document', () => this.statements.upsertDocument.run({ collection, id, value: json }))
  }

  async getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    const row = this.guard(
      'read a document',
      () => this.statements.selectDocument.get(collection, id) as { value: string } | undefined,
    )
    return row ? (JSON.parse(row.value) as Record<string, unknown>) : null
  }

  async listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    const rows = this.guard(
      'list documents',
      () => this.statements.selectDocuments.all(collection) as Array<{ id: string; value: string }>,
    )
    return rows.map((row) => ({ id: row.id, value: JSON.parse(row.value) as Record<string, unknown> }))
  }

  async deleteDocument(collection: string, id: string): Promise<boolean> {
    return this.guard(
      'delete a document',
      () => this.statements.deleteDocument.run(collection, id).changes > 0,
    )
  }

  async useDocumentOnce(
    collection: string,
    id: string,
    now: number,
  ): Promise<Record<string, unknown> | null> {
    // One conditional UPDATE: SQLite serialises writers, so a second caller finds `usedAt` set.
    const row = this.guard(
      'use a document',
      () => this.statements.useDocumentOnce.get({ collection, id, now }) as { value: string } | undefined,
    )
    return row ? (JSON.parse(row.value) as Record<string, unknown>) : null
  }

  // The webhook outbox lives in sqlite-outbox.ts.
  private outboxTable: SqliteOutbox | undefined
  get outbox(): SqliteOutbox {
    this.outboxTable ??= new SqliteOutbox(this.db, (action, step) => this.guard(action, step))
    return this.outboxTable
  }

  sealSecret(plaintext: string, aad: string): string {
    return this.keyring.encrypt(plaintext, aad)
  }
  openSecret(sealed: string, aad: string): string {
    return this.keyring.decrypt(sealed, aad)
  }

  /** A committed SQLite transaction is on disk (WAL, synchronous writes). */
  async durabilityWarning(): Promise<string | undefined> {
    return undefined
  }

  async ping(): Promise<void> {
    this.guard('answer a ping', () => this.statements.ping.get())
  }

  async close(): Promise<void> {
    await this.changes.shutdown()
    if (this.db.open) this.db.close()
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

  private appFromRow(row: AppRow): AppRecord {
    return decodeApp(this.keyring, {
      name: row.name,
      provider: row.provider,
      clientId: row.client_id,
      clientSecret: row.client_secret,
      keyId: row.client_secret_key_id,
      redirectUri: row.redirect_uri,
      scopes: row.scopes === null ? null : JSON.parse(row.scopes),
      settings: JSON.parse(row.settings),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    })
  }

  private connectionFromRow(row: ConnectionRow, options: { tolerant?: boolean } = {}): ConnectionRecord {
    return decodeConnection(
      this.keyring,
      {
        id: row.id,
        app: row.app,
        name: row.name,
        state: row.state,
        secrets: row.secrets,
        keyId: row.secrets_key_id,
        scopes: JSON.parse(row.scopes),
        metadata: JSON.parse(row.metadata),
        lastError: row.last_error === null ? null : JSON.parse(row.last_error),
        failures: row.failures,
        refreshDueAt: row.refresh_due_at,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        lastRefreshAt: row.last_refresh_at,
        version: row.version,
      },
      options,
    )
  }

  private pendingFromRow(row: PendingRow): PendingAuthorization {
    const encoded: EncodedPendingAuthorization = {
      state: row.state,
      app: row.app,
      name: row.name,
      redirectUri: row.redirect_uri,
      scopes: JSON.parse(row.scopes),
      codeVerifier: row.code_verifier,
      keyId: row.code_verifier_key_id,
      options: JSON.parse(row.options),
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    }
    return decodePendingAuthorization(this.keyring, encoded)
  }

  /** Runs a synchronous database step, turning driver errors into StoreErrors. */
  private guard<T>(action: string, step: () => T): T {
    try {
      return step()
    } catch (error) {
      if (error instanceof InnkeeperError) throw error
      throw storeFailure(action, error)
    }
  }
}

function connectionParams(encoded: EncodedConnection): Record<string, string | number | null> {
  return {
    id: encoded.id,
    app: encoded.app,
    name: encoded.name,
    state: encoded.state,
    secrets: encoded.secrets,
    secrets_key_id: encoded.keyId,
    scopes: JSON.stringify(encoded.scopes),
    metadata: JSON.stringify(encoded.metadata),
    last_error: encoded.lastError === null ? null : JSON.stringify(encoded.lastError),
    failures: encoded.failures,
    refresh_due_at: encoded.refreshDueAt,
    created_at: encoded.createdAt,
    updated_at: encoded.updatedAt,
    last_refresh_at: encoded.lastRefreshAt,
    version: encoded.version,
  }
}

interface AuditRow {
  id: string
  at: number
  actor: string
  action: string
  connection: string | null
  outcome: AuditEntry['outcome']
  detail: string | null
}

function auditFromRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    outcome: row.outcome,
  }
  if (row.connection !== null) entry.connection = row.connection
  if (row.detail !== null) entry.detail = JSON.parse(row.detail)
  return entry
}

function leaseFromRow(row: LeaseRow): Lease {
  return { key: row.key, owner: row.owner ?? '', fencingToken: row.fencing_token, expiresAt: row.expires_at }
}

function prepareStatements(db: Db) {
  return {
    ping: db.prepare('SELECT 1'),
    appExists: db.prepare('SELECT 1 FROM apps WHERE name = ?'),
    // An upsert, never INSERT OR REPLACE: a replace deletes the row first, cascading to connections.
    upsertApp: db.prepare(`
      INSERT INTO apps (name, provider, client_id, client_secret, client_secret_key_id, redirect_uri, scopes,
                        settings, created_at, updated_at)
      VALUES (@name, @provider, @client_id, @client_secret, @client_secret_key_id, @redirect_uri, @scopes,
              @settings, @created_at, @updated_at)
      ON CONFLICT (name) DO UPDATE SET
        provider = excluded.provider, client_id = excluded.client_id, client_secret = excluded.client_secret,
        client_secret_key_id = excluded.client_secret_key_id, redirect_uri = excluded.redirect_uri,
        scopes = excluded.scopes, settings = excluded.settings, created_at = excluded.created_at,
        updated_at = excluded.updated_at`),
    selectApp: db.prepare('SELECT * FROM apps WHERE name = ?'),
    selectApps: db.prepare('SELECT * FROM apps ORDER BY name'),
    deleteApp: db.prepare('DELETE FROM apps WHERE name = ?'),

    selectConnection: db.prepare('SELECT * FROM connections WHERE id = ?'),
    selectConnections: db.prepare('SELECT * FROM connections ORDER BY id'),
    selectConnectionsOfApp: db.prepare('SELECT * FROM connections WHERE app = ? ORDER BY id'),
    selectConnectionVersion: db.prepare('SELECT version FROM connections WHERE id = ?'),
    selectConnectionStamps: db.prepare('SELECT id, version, updated_at FROM connections'),
    upsertConnection: db.prepare(`
      INSERT INTO connections (id, app, name, state, secrets, secrets_key_id, scopes, metadata, last_error, failures,
                               refresh_due_at, created_at, updated_at, last_refresh_at, version)
      VALUES (@id, @app, @name, @state, @secrets, @secrets_key_id, @scopes, @metadata, @last_error, @failures,
              @refresh_due_at, @created_at, @updated_at, @last_refresh_at, @version)
      ON CONFLICT (id) DO UPDATE SET
        app = excluded.app, name = excluded.name, state = excluded.state, secrets = excluded.secrets,
        secrets_key_id = excluded.secrets_key_id, scopes = excluded.scopes, metadata = excluded.metadata,
        last_error = excluded.last_error, failures = excluded.failures, refresh_due_at = excluded.refresh_due_at,
        created_at = excluded.created_at, updated_at = excluded.updated_at,
        last_refresh_at = excluded.last_refresh_at, version = excluded.version`),
    deleteConnection: db.prepare('DELETE FROM connections WHERE id = ?'),
    selectClaimable: db.prepare(`
      SELECT c.* FROM connections c
      LEFT JOIN leases l ON l.key = 'refresh:' || c.id
      WHERE c.refresh_due_at <= @now
        AND c.state IN ('active', 'error')
        AND (l.key IS NULL OR l.owner IS NULL OR l.expires_at <= @now)
      ORDER BY c.refresh_due_at, c.id
      LIMIT @limit`),

    upsertPending: db.prepare(`
      INSERT INTO pending_authorizations (state, app, name, redirect_uri, scopes, code_verifier, code_verifier_key_id,
                                          options, created_at, expires_at)
      VALUES (@state, @app, @name, @redirect_uri, @scopes, @code_verifier, @code_verifier_key_id, @options,
              @created_at, @expires_at)
      ON CONFLICT (state) DO UPDATE SET
        app = excluded.app, name = excluded.name, redirect_uri = excluded.redirect_uri, scopes = excluded.scopes,
        code_verifier = excluded.code_verifier, code_verifier_key_id = excluded.code_verifier_key_id,
        options = excluded.options, created_at = excluded.created_at, expires_at = excluded.expires_at`),
    deletePendingReturning: db.prepare('DELETE FROM pending_authorizations WHERE state = ? RETURNING *'),
    selectLatestPending: db.prepare(
      'SELECT * FROM pending_authorizations WHERE app = ? AND expires_at > ? ORDER BY created_at DESC, state DESC LIMIT 1',
    ),

    selectLease: db.prepare('SELECT * FROM leases WHERE key = ?'),
    selectHeldLease: db.prepare(
      'SELECT * FROM leases WHERE key = ? AND owner IS NOT NULL AND expires_at > ?',
    ),
    upsertLease: db.prepare(`
      INSERT INTO leases (key, owner, fencing_token, expires_at) VALUES (@key, @owner, @fencing_token, @expires_at)
      ON CONFLICT (key) DO UPDATE SET
        owner = excluded.owner, fencing_token = excluded.fencing_token, expires_at = excluded.expires_at`),
    renewLease: db.prepare(
      'UPDATE leases SET expires_at = @expires_at WHERE key = @key AND owner = @owner AND fencing_token = @fencing_token',
    ),
    releaseLease: db.prepare(
      'UPDATE leases SET owner = NULL, expires_at = 0 WHERE key = @key AND owner = @owner AND fencing_token = @fencing_token',
    ),
    upsertDocument: db.prepare(`
      INSERT INTO documents (collection, id, value) VALUES (@collection, @id, @value)
      ON CONFLICT (collection, id) DO UPDATE SET value = excluded.value`),
    selectDocument: db.prepare('SELECT value FROM documents WHERE collection = ? AND id = ?'),
    selectDocuments: db.prepare('SELECT id, value FROM documents WHERE collection = ? ORDER BY id'),
    deleteDocument: db.prepare('DELETE FROM documents WHERE collection = ? AND id = ?'),
    useDocumentOnce: db.prepare(`
      UPDATE documents SET value = json_set(value, '$.usedAt', @now)
      WHERE collection = @collection AND id = @id AND json_type(value, '$.usedAt') IS NULL
        AND json_type(value, '$.expiresAt') IN ('integer', 'real') AND json_extract(value, '$.expiresAt') > @now
      RETURNING value`),
    resealAppsList: db.prepare(
      'SELECT name AS id, client_secret AS sealed FROM apps WHERE client_secret_key_id <> ? AND name > ? ORDER BY name LIMIT ?',
    ),
    resealAppSwap: db.prepare(
      'UPDATE apps SET client_secret = @resealed, client_secret_key_id = @key_id WHERE name = @id AND client_secret = @sealed',
    ),
    resealConnectionsList: db.prepare(
      'SELECT id, secrets AS sealed, version FROM connections WHERE secrets_key_id <> ? AND id > ? ORDER BY id LIMIT ?',
    ),
    // The version stays: the record did not change, and a refresher holding it must still commit.
    resealConnectionSwap: db.prepare(
      'UPDATE connections SET secrets = @resealed, secrets_key_id = @key_id WHERE id = @id AND version = @version AND secrets = @sealed',
    ),
    resealPendingList: db.prepare(
      `SELECT state AS id, code_verifier AS sealed FROM pending_authorizations
       WHERE code_verifier IS NOT NULL AND code_verifier_key_id <> ? AND state > ? ORDER BY state LIMIT ?`,
    ),
    resealPendingSwap: db.prepare(
      'UPDATE pending_authorizations SET code_verifier = @resealed, code_verifier_key_id = @key_id WHERE state = @id AND code_verifier = @sealed',
    ),
    insertAudit: db.prepare(
      'INSERT INTO audit (id, at, actor, action, connection, outcome, detail) VALUES (@id, @at, @actor, @action, @connection, @outcome, @detail)',
    ),
    selectAudit: db.prepare(`
      SELECT * FROM audit
      WHERE (@connection IS NULL OR connection = @connection) AND (@since IS NULL OR at >= @since)
      ORDER BY at DESC, id DESC LIMIT @limit`),
    countAudit: db.prepare(`
      SELECT (at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS bucket, action, outcome, count(*) AS count FROM audit
      WHERE at >= @since GROUP BY 1, 2, 3`),
    pruneAudit: db.prepare('DELETE FROM audit WHERE at < ?'),
    countByKeyId: db.prepare(`
      SELECT client_secret_key_id AS key_id, count(*) AS count FROM apps GROUP BY 1
      UNION ALL SELECT secrets_key_id, count(*) FROM connections GROUP BY 1
      UNION ALL SELECT code_verifier_key_id, count(*) FROM pending_authorizations
        WHERE code_verifier_key_id IS NOT NULL GROUP BY 1`),
  }
}

/** Creates the database file (and its directory, 0700) with mode 0600 before SQLite opens it, so
 * it is never readable by others, not even for a moment. SQLite gives `-wal`/`-shm` the same mode. */
function createPrivateFile(path: string): void {
  if (existsSync(path)) return
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    closeSync(openSync(path, 'a', 0o600))
  } catch (error) {
    throw storeFailure(`create the SQLite file ${path}`, error)
  }
}

function configure(db: Db, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
  // Switching to WAL needs a moment of exclusive access; when another process opens the same
  // fresh file at the same instant it can answer SQLITE_BUSY without waiting, so retry.
  const deadline = Date.now() + busyTimeoutMs
  for (;;) {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (String(mode).toLowerCase() === 'wal' || db.memory) break
      throw new StoreError('store_unavailable', `SQLite refused WAL mode (it answered '${String(mode)}').`)
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error
      sleepSync(20)
    }
  }
  // FULL: a committed rotated refresh token survives a power cut too, not only a process crash.
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
}

/** Applies missing migrations in one immediate transaction; a second process opening the same
 * fresh file waits for the lock, then finds them applied and does nothing. */
function migrate(db: Db, migrations: readonly SqliteMigration[]): void {
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

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function storeFailure(action: string, error: unknown): StoreError {
  const code = (error as { code?: unknown } | null)?.code
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error'
  const hint = isBusy(error)
    ? 'another process held the database lock too long; retry, or raise the busy timeout'
    : 'check that the file exists, is writable by this user and is not damaged'
  // The driver's own message stays in `cause`, out of the sentence users and logs see first.
  return new StoreError('store_unavailable', `SQLite could not ${action} (${reason}); ${hint}.`, {
    cause: error,
    details: { reason },
  })
}
