// One way every store driver (SQLite, PostgreSQL, Redis) turns a failed call into the error users
// see: a StoreError `store_unavailable` that reads "Could not <operation, where>: <why>. <what to
// do>", with no secret in it. Each driver only says what its errors mean (a FailureReading); the
// sentence, the cause and Innkeeper's own errors passing through are handled here alike.

import { type InnkeeperError, isInnkeeperError, StoreError } from '../../errors.js'

/** What a driver's error means, in words safe to show (never a query parameter or a password). */
export interface FailureReading {
  /** Why the call failed ('' when nothing safe can be said). */
  why: string
  /** The sentence telling the user what to do next. */
  hint: string
  /** Keep the driver's error as `cause` (only when it cannot carry a secret). */
  keepCause?: boolean
  details?: Record<string, unknown>
  /** A more precise Innkeeper error to answer instead (e.g. a foreign key naming an unknown app). */
  instead?: InnkeeperError
}

/** Turns a failed driver call into the StoreError users see; `where` names the operation and the store. */
export type StoreFailure = (error: unknown, where: string) => InnkeeperError

/** The translator of one driver, from its reading of its own errors. */
export function storeFailureOf(read: (error: unknown) => FailureReading): StoreFailure {
  return (error, where) => {
    if (isInnkeeperError(error)) return error
    const reading = read(error)
    if (reading.instead) return reading.instead
    const why = reading.why ? `: ${reading.why}` : ''
    return new StoreError('store_unavailable', `Could not ${where}${why}. ${reading.hint}`, {
      ...(reading.keepCause ? { cause: error } : {}),
      ...(reading.details ? { details: reading.details } : {}),
    })
  }
}

/** The `code` a driver put on its error (a SQLSTATE, `ECONNREFUSED`, `SQLITE_BUSY`…), or ''. */
export function driverErrorCode(error: unknown): string {
  return typeof error === 'object' && error !== null ? String((error as { code?: unknown }).code ?? '') : ''
}
