// The SQLite store: the shared conformance suite (with encryption at rest checked on the file's raw
// bytes, WAL included), plus what only a file shared by processes can show: migrations on reopen,
// file modes, and two OS processes contending for leases and claims on one file.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import ts from 'typescript'
import { afterEach, describe, expect, it } from 'vitest'
import { createKeyring, generateKey } from '../../src/crypto/keyring.js'
import { ConfigError, CryptoError, StoreError } from '../../src/errors.js'
import { openStore, parseStoreUrl } from '../../src/stores/open.js'
import { SQLITE_MIGRATIONS } from '../../src/stores/sqlite/migrations.js'
import { openSqliteStore } from '../../src/stores/sqlite/store.js'
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
    keyring,
    rawBytes: async () => rawFileBytes(path),
    // A second connection to the same file (the OS-process case is tested below).
    openAnother: () => openSqliteStore(path, { keyring }),
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
      "UPDATE innkeeper_connections SET secrets = (SELECT secrets FROM innkeeper_connections WHERE id = 'acme/victim') WHERE id = 'acme/attacker'",
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

// ---- Two OS processes on one file -------------------------------------------------------------
// The child processes run the real store code. tsx is not installed and a full `tsc` build would
// compile everyone's work in progress, so the test transpiles just the store's import closure with
// the TypeScript compiler API (syntax only, milliseconds) into test-artifacts/, inside the repo so
// `better-sqlite3` resolves from node_modules, and runs a plain .mjs child on it with `node`.

const CHILD_SCRIPT = `
import { existsSync, writeFileSync } from 'node:fs'
import { createKeyring } from './src/crypto/keyring.js'
import { openSqliteStore } from './src/stores/sqlite/store.js'

const config = JSON.parse(process.argv[2])
const keyring = createKeyring([{ id: 'k1', key: Buffer.from(config.key, 'base64') }])
// Every stage starts in both processes at once: each waits at a barrier for the other.
async function barrier(stage) {
  writeFileSync(config.barrierDir + '/' + stage + '.' + config.owner, '')
  while (!config.owners.every((owner) => existsSync(config.barrierDir + '/' + stage + '.' + owner))) {
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}
await barrier('start')

// Both processes open the same fresh file at once: migrations must not trip over each other.
const fresh = await openSqliteStore(config.freshPath, { keyring })
await barrier('opened')
const leasesWon = []
// The processes walk the keys in opposite orders and meet in the middle, contending there.
const order = Array.from({ length: config.leaseKeys }, (_, i) => i)
if (config.owner === config.owners[1]) order.reverse()
for (const i of order) {
  const lease = await fresh.acquireLease('key-' + i, config.owner, 60_000, config.now)
  if (lease) leasesWon.push({ key: lease.key, fencingToken: lease.fencingToken })
}
await fresh.close()

const shared = await openSqliteStore(config.sharedPath, { keyring })
await barrier('claims')
const claimed = []
for (;;) {
  const batch = await shared.claimDueConnections(config.now, 2, config.owner, 60_000)
  if (batch.length === 0) break
  for (const { connection } of batch) claimed.push(connection.id)
}

// Compare-and-swap increments of one counter: a lost update would show as a smaller total.
await barrier('increments')
let increments = 0
let conflicts = 0
while (increments < config.increments) {
  const current = await shared.getConnection('acme/counter')
  try {
    await shared.saveConnection({ ...current, failures: current.failures + 1 }, current.version)
    increments++
  } catch (error) {
    if (error.code !== 'conflict') throw error
    conflicts++
  }
}
await shared.close()
process.stdout.write(JSON.stringify({ leasesWon, claimed, increments, conflicts }))
`

interface ChildResult {
  leasesWon: Array<{ key: string; fencingToken: number }>
  claimed: string[]
  increments: number
  conflicts: number
}

/** Transpiles `entries` and every module they import (relative, non-type imports) into `outDir`. */
function transpileClosure(entries: string[], outDir: string): void {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
  const pending = [...entries]
  const seen = new Set<string>()
  while (pending.length > 0) {
    const relativePath = pending.pop()!
    if (seen.has(relativePath)) continue
    seen.add(relativePath)
    const source = readFileSync(join(repo, relativePath), 'utf8')
    const output = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: relativePath,
    }).outputText
    const target = join(outDir, relativePath.replace(/\.ts$/, '.js'))
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, output)
    for (const match of output.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(join(dirname(relativePath), `${match[1]}.ts`))
    }
  }
}

function runChild(script: string, config: Record<string, unknown>): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [script, JSON.stringify(config)],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`child ${String(config.owner)} failed: ${stderr || error.message}`))
        else resolvePromise(JSON.parse(stdout) as ChildResult)
      },
    )
  })
}

describe('two OS processes sharing one SQLite file', () => {
  it('never both win a lease, never both claim a connection, never lose an update', async () => {
    const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
    const artifacts = join(repo, 'test-artifacts', `sqlite-processes-${process.pid}-${Date.now()}`)
    const { directory } = scratch()
    try {
      transpileClosure(['src/stores/sqlite/store.ts', 'src/crypto/keyring.ts'], artifacts)
      const script = join(artifacts, 'child.mjs')
      writeFileSync(script, CHILD_SCRIPT)

      const key = generateKey()
      const sharedKeyring = createKeyring([{ id: 'k1', key: Buffer.from(key, 'base64') }])
      const sharedPath = join(directory, 'shared.db')
      const now = Date.now()
      const connections = 40
      const setup = await openSqliteStore(sharedPath, { keyring: sharedKeyring })
      await setup.putApp(sampleApp())
      for (let i = 0; i < connections; i++) {
        await setup.saveConnection(sampleConnection({ name: `c${i}`, refreshDueAt: now - 1000 + i }))
      }
      await setup.saveConnection(sampleConnection({ name: 'counter', refreshDueAt: now + 3_600_000 }))
      await setup.close()

      const owners = ['process-a', 'process-b']
      const common = {
        key,
        now,
        owners,
        barrierDir: directory,
        sharedPath,
        freshPath: join(directory, 'fresh.db'),
        leaseKeys: 300,
        increments: 100,
      }
      const results = await Promise.all(owners.map((owner) => runChild(script, { ...common, owner })))
      // Leases: every key has exactly one winner across the two processes.
      const winners = results.flatMap((result) => result.leasesWon.map((lease) => lease.key))
      expect(winners).toHaveLength(common.leaseKeys)
      expect(new Set(winners).size).toBe(common.leaseKeys)

      // Claims: disjoint, and together they cover every due connection.
      const claimed = results.flatMap((result) => result.claimed)
      expect(new Set(claimed).size).toBe(claimed.length)
      expect(claimed).toHaveLength(connections)

      // Compare-and-swap: every increment of both processes is in the stored counter.
      const check = await openSqliteStore(sharedPath, { keyring: sharedKeyring })
      const counter = await check.getConnection('acme/counter')
      await check.close()
      expect(counter?.failures).toBe(2 * common.increments)
    } finally {
      rmSync(artifacts, { recursive: true, force: true })
      rmSync(directory, { recursive: true, force: true })
    }
  })
})

describe('store URLs that name a SQLite file', () => {
  it('accepts sqlite:PATH, sqlite:///abs/path and a bare path ending in .db', () => {
    expect(parseStoreUrl('sqlite:./data/innkeeper.db')).toEqual({
      kind: 'sqlite',
      path: resolve('data/innkeeper.db'),
    })
    expect(parseStoreUrl('sqlite:///var/lib/innkeeper/keys.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/innkeeper/keys.db',
    })
    expect(parseStoreUrl('sqlite:/tmp/a.sqlite')).toEqual({ kind: 'sqlite', path: '/tmp/a.sqlite' })
    expect(parseStoreUrl('innkeeper.db')).toEqual({ kind: 'sqlite', path: resolve('innkeeper.db') })
    expect(parseStoreUrl('sqlite:~/innkeeper.db')).toEqual({
      kind: 'sqlite',
      path: join(homedir(), 'innkeeper.db'),
    })
  })

  it('an unknown scheme is a ConfigError that lists the allowed forms and does not echo a password', () => {
    const error = (() => {
      try {
        parseStoreUrl('mysql://admin:hunter2@db.example/innkeeper')
      } catch (caught) {
        return caught as ConfigError
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(error?.code).toBe('invalid_config')
    expect(error?.message).toContain('sqlite:PATH')
    expect(error?.message).toContain('postgres://')
    expect(error?.message).not.toContain('hunter2')
    expect(() => parseStoreUrl('sqlite:')).toThrow(ConfigError)
  })

  it('openStore opens a working SQLite store from its URL', async () => {
    const { directory, path } = scratch()
    try {
      const store = await openStore(`sqlite:${path}`, { keyring })
      expect(store.kind).toBe('sqlite')
      await store.putApp(sampleApp())
      expect((await store.getApp('acme'))?.clientSecret).toBe(sampleApp().clientSecret)
      await store.close()
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
