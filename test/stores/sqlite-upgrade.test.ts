// A SQLite file written before migration 5 (unprefixed tables, `*_key_id` columns) opens with
// today's code, is renamed in place to the PostgreSQL names, and every record it held reads back:
// the app and connection with their sealed secrets, the pending authorization, the lease, the
// document, the audit entry and the webhook outbox entry.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createKeyring, generateKey } from '../../src/crypto/keyring.js'
import { encodeApp, encodeConnection, encodePendingAuthorization } from '../../src/stores/codec.js'
import { migrate, SQLITE_MIGRATIONS } from '../../src/stores/sqlite/migrations.js'
import { openSqliteStore } from '../../src/stores/sqlite/store.js'
import { sampleApp, sampleConnection, samplePending } from './conformance.js'

const keyring = createKeyring([{ id: 'k1', key: Buffer.from(generateKey(), 'base64') }])
const NOW = Date.now()

const OLD_OUTBOX_ENTRY = {
  id: 'event-1.receiver-1',
  eventId: 'event-1',
  receiverId: 'receiver-1',
  orderingKey: 'receiver-1:acme/main',
  body: '{"type":"connection.refreshed"}',
  createdAt: NOW,
  nextAttemptAt: NOW,
}

/** Writes one of every record the way Innkeeper did at schema version 4 (its table and column names). */
function writeVersion4File(path: string): void {
  const db = new Database(path)
  migrate(
    db,
    SQLITE_MIGRATIONS.filter((migration) => migration.version <= 4),
  )
  const app = encodeApp(keyring, sampleApp())
  db.prepare(
    `INSERT INTO apps (name, provider, client_id, client_secret, client_secret_key_id, redirect_uri, scopes, settings,
       created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    app.name,
    app.provider,
    app.clientId,
    app.clientSecret,
    app.keyId,
    app.redirectUri,
    JSON.stringify(app.scopes),
    JSON.stringify(app.settings),
    app.createdAt,
    app.updatedAt,
  )
  const connection = encodeConnection(keyring, { ...sampleConnection(), version: 3 })
  db.prepare(
    `INSERT INTO connections (id, app, name, state, secrets, secrets_key_id, scopes, metadata, last_error, failures,
       refresh_due_at, created_at, updated_at, last_refresh_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
  ).run(
    connection.id,
    connection.app,
    connection.name,
    connection.state,
    connection.secrets,
    connection.keyId,
    JSON.stringify(connection.scopes),
    JSON.stringify(connection.metadata),
    connection.failures,
    connection.refreshDueAt,
    connection.createdAt,
    connection.updatedAt,
    connection.lastRefreshAt,
    connection.version,
  )
  const pending = encodePendingAuthorization(keyring, samplePending({ expiresAt: NOW + 600_000 }))
  db.prepare(
    `INSERT INTO pending_authorizations (state, app, name, redirect_uri, scopes, code_verifier, code_verifier_key_id,
       options, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    pending.state,
    pending.app,
    pending.name,
    pending.redirectUri,
    JSON.stringify(pending.scopes),
    pending.codeVerifier,
    pending.keyId,
    JSON.stringify(pending.options),
    pending.createdAt,
    pending.expiresAt,
  )
  db.prepare('INSERT INTO leases (key, owner, fencing_token, expires_at) VALUES (?, ?, ?, ?)').run(
    'refresh:acme/main',
    'worker-a',
    7,
    NOW + 60_000,
  )
  db.prepare('INSERT INTO documents (collection, id, value) VALUES (?, ?, ?)').run(
    'api_keys',
    'key-1',
    '{"hash":"abc"}',
  )
  db.prepare(
    'INSERT INTO audit (id, at, actor, action, connection, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run('audit-1', NOW, 'cli:alice', 'connection.connected', 'acme/main', 'ok', '{"provider":"bookingsync"}')
  db.prepare(
    `INSERT INTO outbox (id, event_id, receiver_id, ordering_key, body, state, created_at, next_attempt_at)
     VALUES (@id, @eventId, @receiverId, @orderingKey, @body, 'pending', @createdAt, @nextAttemptAt)`,
  ).run(OLD_OUTBOX_ENTRY)
  db.close()
}

function tableNames(path: string): string[] {
  const db = new Database(path, { readonly: true })
  const rows = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as Array<{ name: string }>
  db.close()
  return rows.map((row) => row.name)
}

describe('a SQLite file from before the PostgreSQL names (schema version 4)', () => {
  const directories: string[] = []
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  })
  function oldFile(): string {
    const directory = mkdtempSync(join(tmpdir(), 'innkeeper-sqlite-upgrade-'))
    directories.push(directory)
    const path = join(directory, 'innkeeper.db')
    writeVersion4File(path)
    return path
  }

  it('is renamed in place on open: innkeeper_* tables, key_id columns, nothing left under the old names', async () => {
    const path = oldFile()
    await (await openSqliteStore(path, { keyring })).close()
    expect(tableNames(path)).toEqual([
      'innkeeper_apps',
      'innkeeper_audit',
      'innkeeper_connections',
      'innkeeper_documents',
      'innkeeper_leases',
      'innkeeper_outbox',
      'innkeeper_pending_authorizations',
      'schema_migrations',
    ])
    const db = new Database(path, { readonly: true })
    for (const table of ['innkeeper_apps', 'innkeeper_connections', 'innkeeper_pending_authorizations']) {
      const columns = (db.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name)
      expect(columns).toContain('key_id')
      expect(columns.filter((name) => name.endsWith('_key_id'))).toEqual([])
    }
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.at(-1)?.version)
    db.close()
  })

  it('keeps every record: sealed secrets, pending authorization, lease, document, audit and outbox', async () => {
    const store = await openSqliteStore(oldFile(), { keyring })
    expect(await store.getApp('acme')).toEqual(sampleApp())
    const connection = await store.getConnection('acme/main')
    expect(connection?.tokens).toEqual(sampleConnection().tokens)
    expect(connection?.version).toBe(3)
    expect((await store.latestPendingAuthorization('acme', NOW))?.codeVerifier).toBe(
      samplePending().codeVerifier,
    )
    expect(await store.getLease('refresh:acme/main', NOW)).toMatchObject({
      owner: 'worker-a',
      fencingToken: 7,
    })
    expect(await store.getDocument('api_keys', 'key-1')).toEqual({ hash: 'abc' })
    expect(await store.listAudit()).toEqual([
      {
        id: 'audit-1',
        at: NOW,
        actor: 'cli:alice',
        action: 'connection.connected',
        connection: 'acme/main',
        outcome: 'ok',
        detail: { provider: 'bookingsync' },
      },
    ])
    const [entry] = await store.outbox.list()
    expect(entry).toMatchObject({ ...OLD_OUTBOX_ENTRY, state: 'pending', attempts: 0 })
    expect(await store.countSecretsByKeyId()).toEqual({ k1: 3 })
    await store.close()
  })

  it('keeps working after the rename: versions, fencing tokens and outbox order go on, deletes still cascade', async () => {
    const store = await openSqliteStore(oldFile(), { keyring })
    const current = (await store.getConnection('acme/main'))!
    expect((await store.saveConnection({ ...current, failures: 1 }, 3)).version).toBe(4)

    const lease = await store.acquireLease('refresh:acme/main', 'worker-b', 60_000, NOW + 120_000)
    expect(lease?.fencingToken).toBe(8)

    await store.outbox.enqueue([{ ...OLD_OUTBOX_ENTRY, id: 'event-2.receiver-1', eventId: 'event-2' }])
    const [first, second] = await store.outbox.list()
    expect(first?.id).toBe(OLD_OUTBOX_ENTRY.id)
    expect(second?.seq).toBeGreaterThan(first?.seq ?? Number.POSITIVE_INFINITY)

    expect(await store.deleteApp('acme')).toBe(true)
    expect(await store.getConnection('acme/main')).toBeNull()
    expect(await store.latestPendingAuthorization('acme', NOW)).toBeNull()
    await store.close()
  })
})
