// How the SQLite driver reports failures: every driver error becomes a StoreError
// (`store_unavailable`) whose sentence names the action and what to check, with the driver's own
// message kept in `cause` only. better-sqlite3 is synchronous, so one wrapper serves every step.

import { InnkeeperError, StoreError } from '../../errors.js'

/** Runs a synchronous database step, turning driver errors into StoreErrors. */
export function sqliteStep<T>(action: string, step: () => T): T {
  try {
    return step()
  } catch (error) {
    if (error instanceof InnkeeperError) throw error
    throw sqliteFailure(action, error)
  }
}

/** True when SQLite answered that another connection holds the lock (SQLITE_BUSY*). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

export function sqliteFailure(action: string, error: unknown): StoreError {
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
