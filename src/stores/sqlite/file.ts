// Opening the SQLite file: created with mode 0600 (its directory 0700) before SQLite touches it,
// then WAL journal, a busy timeout, synchronous FULL and foreign keys. The schema is brought up to
// date separately (migrations.ts).

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { type InnkeeperError, isInnkeeperError, StoreError } from '../../errors.js'
import { isBusy, sqliteFailure } from './errors.js'

/**
 * better-sqlite3 is CommonJS: required directly, it skips the scan of its exports that importing
 * it as an ES module costs on every CLI start.
 */
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3

export type Db = BetterSqlite3.Database

/** Each database's one `BEGIN IMMEDIATE` transaction function (see `inWriteTransaction`). */
const writeTransactions = new WeakMap<Db, (work: () => unknown) => unknown>()

/**
 * Runs `work` in one `BEGIN IMMEDIATE` transaction (a savepoint when already inside one), which
 * takes SQLite's write lock before reading, and commits or rolls back. The transaction function is
 * made once per database: better-sqlite3 builds four wrappers per `db.transaction()` call, a cost
 * every refresh paid twice (lease and save; CPU profile, issue 15).
 */
export function inWriteTransaction<T>(db: Db, work: () => T): T {
  let run = writeTransactions.get(db)
  if (!run) {
    run = db.transaction((job: () => unknown) => job()).immediate
    writeTransactions.set(db, run)
  }
  return run(work) as T
}

/** Opens (creating if needed) the file at `path`, configured for many processes sharing it. */
export function openDatabaseFile(path: string, busyTimeoutMs: number): Db {
  if (path !== ':memory:') createPrivateFile(path)
  let db: Db
  try {
    db = new Database(path, NATIVE_BINDING ? { nativeBinding: NATIVE_BINDING } : {})
  } catch (error) {
    throw sqliteFailure(error, `open the SQLite file ${path}`)
  }
  try {
    configure(db, busyTimeoutMs)
  } catch (error) {
    db.close()
    throw preparingFailed(path, error)
  }
  return db
}

/** The error for a file that opened but could not be configured or migrated. */
export function preparingFailed(path: string, error: unknown): InnkeeperError {
  return isInnkeeperError(error) ? error : sqliteFailure(error, `prepare the SQLite file ${path}`)
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

/** Creates the database file (and its directory, 0700) with mode 0600 before SQLite opens it, so
 * it is never readable by others, not even for a moment. SQLite gives `-wal`/`-shm` the same mode. */
function createPrivateFile(path: string): void {
  if (existsSync(path)) return
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    closeSync(openSync(path, 'a', 0o600))
  } catch (error) {
    throw sqliteFailure(error, `create the SQLite file ${path}`)
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
  // Writes of leases alone and audit batches lower it for their own commit (`SqliteStore.withoutFsync`).
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
