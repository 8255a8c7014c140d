// How the SQLite driver reports failures: every driver error becomes a StoreError
// (`store_unavailable`, through the shared translator in ../kit/errors.ts) whose sentence names
// the action and what to check, with the driver's own message kept in `cause` only.
// better-sqlite3 is synchronous, so one wrapper serves every step.

import { isInnkeeperError } from '../../errors.js'
import { driverErrorCode, type FailureReading, storeFailureOf } from '../kit/errors.js'

/** Runs a synchronous database step, turning driver errors into StoreErrors. */
export function sqliteStep<T>(action: string, step: () => T): T {
  try {
    return step()
  } catch (error) {
    if (isInnkeeperError(error)) throw error
    throw sqliteFailure(error, action)
  }
}

/** True when SQLite answered that another connection holds the lock (SQLITE_BUSY*). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** What a failed SQLite call means; the driver's own message stays in `cause`, out of the sentence. */
function readSqliteFailure(error: unknown): FailureReading {
  const code = driverErrorCode(error)
  const reason = code || (error instanceof Error ? error.name : 'unknown error')
  const hint = isBusy(error)
    ? 'Another process held the database lock too long; retry, or raise the busy timeout.'
    : 'Check that the file exists, is writable by this user and is not damaged.'
  return { why: `SQLite answered ${reason}`, hint, keepCause: true, details: { reason } }
}

/** A StoreError for a failed SQLite call; `where` names the operation and the file. */
export const sqliteFailure = storeFailureOf(readSqliteFailure)
