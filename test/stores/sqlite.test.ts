// The SQLite store: the shared conformance suite (with encryption at rest checked on the file's raw
// bytes, WAL included), plus what only a file shared by processes can show: migrations on reopen,
// file modes, and two OS processes contending for leases and claims on one file.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createKeyring, generateKey } from '../../src/crypto/keyring.js'
import { CryptoError, StoreError } from '../../src/errors.js'
import { SQLITE_MIGRATIONS } from '../../src/stores/migrations/sqlite.js'
import { openSqliteStore } from '../../src/stores/sqlite.js'
import { runStoreConformance, sampleApp, sampleConnection, samplePending } from './conformance.js'

const keyring = createKeyring([{ id: 'k1', key: Buffer.from(generateKey(), 'base64') }])

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'innkeeper-sqlite-'))
}

function rawFileBytes(path: string): Buffer {
  const parts = [path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file))
  return Buffer.concat(parts)
}

runStoreConformance('sqlite', async () => {
  const directory = temporaryDirectory()
  const path = join(directory, 'innkeeper.db')
  const store = await openSqliteStore(path, { keyring })
  return {
    store,
    rawBytes: async () => rawFileBytes(path),
    cleanup: async () => rmSync(directory, { recursive: true, force: true }),
  }
})

function scratch(): { directory: string; path: string } {
  const directory = temporaryDirectory()
  return { directory, path: join(directory, 'innkeeper.db') }
}

describe('sqlite file on disk', () => {
  const directories: string[] = []
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  })
  function newFile(): string {
    const { directory, path } = scratch()
    directories.push(directory)
    return path
  }

  it.skipIf(process.platform === 'win32')(
    'creates the database file and its WAL companions with mode 0600',
    async () => {
      const path = newFile()
      const store = await openSqliteStore(path, { keyring })
      await store.putApp(sampleApp())
      expect(statSync(path).mode & 0o777).toBe(0o600)
      for (const companion of [`${path}-wal`, `${path}-shm`]) {
        if (existsSync(companion)) expect(statSync(companion).mode & 0o777).toBe(0o600)
      }
      await store.close()
    },
  )

  it('creates a missing directory for the file', async () => {
    const path = join(dirname(newFile()), 'nested', 'deeper', 'innkeeper.db')
    const store = await openSqliteStore(path, { keyring })
    await store.ping()
    await store.close()
    expect(existsSync(path)).toBe(true)
  })

  it('runs in WAL mode with foreign keys on', async () => {
    const path = newFile()
    await (await openSqliteStore(path, { keyring })).close()
    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  it('applies every migration once, and reopening changes nothing and keeps the data', async () => {
    const path = newFile()
    const first = await openSqliteStore(path, { keyring })
    await first.putApp(sampleApp())
    await first.saveConnection(sampleConnection())
    await first.close()

    const second = await openSqliteStore(path, { keyring })
    expect((await second.getConnection('acme/main'))?.tokens?.refreshToken).toBe('refresh-token-value-1')
    await second.close()
    await (await openSqliteStore(path, { keyring })).close()

    const db = new Database(path, { readonly: true })
    const applied = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()
    expect(applied).toEqual(SQLITE_MIGRATIONS.map((migration) => ({ version: migration.version })))
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.at(-1)?.version)
    db.close()
  })

  it('brings a file left by an older version (first migration only) up to date on open', async () => {
    const path = newFile()
    const old = new Database(path)
    const first = SQLITE_MIGRATIONS[0]!
    old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT;
      ${first.sql}`)
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(first.version, first.name, Date.now())
    old.close()

    const store = await openSqliteStore(path, { keyring })
    await store.putDocument('api_keys', 'a', { hash: 'x' })
    expect(await store.getDocument('api_keys', 'a')).toEqual({ hash: 'x' })
    await store.close()
  })

  it('refuses a file written by a newer Innkeeper', async () => {
    const path = newFile()
    await (await openSqliteStore(path, { keyring })).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_migrations VALUES (999, ?, ?)').run('from the future', Date.now())
    db.close()
    const error = await openSqliteStore(path, { keyring }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).code).toBe('store_unavailable')
    expect((error as StoreError).message).toContain('upgrade Innkeeper')
  })

  it('a store opened with another key cannot read the secrets, and says so with decryption_failed', async () => {
    const path = newFile()
    const store = await openSqliteStore(path, { keyring })
    await store.putApp(sampleApp())
    await store.saveConnection(sampleConnection())
    await store.close()

    const otherKeyring = createKeyring([{ id: 'k1', key: Buffer.from(generateKey(), 'base64') }])
    const other = await openSqliteStore(path, { keyring: otherKeyring })
    const error = await other.getConnection('acme/main').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CryptoError)
    expect((error as CryptoError).code).toBe('decryption_failed')
    await other.close()
  })

  it('a secrets blob copied onto another connection row does not decrypt there', async () => {
    const path = newFile()
    const store = await openSqliteStore(path, { keyring })
    await store.putApp(sampleApp())
    await store.saveConnection(sampleConnection({ name: 'victim' }))
    await store.saveConnection(sampleConnection({ name: 'attacker', tokens: null }))
    const db = new Database(path)
    db.prepare(
      "UPDATE connections SET secrets = (SELECT secrets FROM connections WHERE id = 'acme/victim') WHERE id = 'acme/attacker'",
    ).run()
    db.close()
    const error = await store.getConnection('acme/attacker').catch((caught: unknown) => caught)
    expect((error as CryptoError).code).toBe('decryption_failed')
    await store.close()
  })

  it('counts stored secrets per key id, for key rotation', async () => {
    const path = newFile()
    const store = await openSqliteStore(path, { keyring })
    await store.putApp(sampleApp())
    await store.saveConnection(sampleConnection())
    await store.putPendingAuthorization(samplePending())
    expect(await store.countSecretsByKeyId()).toEqual({ k1: 3 })
    await store.close()
  })
})
