// What a failed PostgreSQL call means, for the shared store-error translator (../kit/errors.ts):
// the driver's message is kept only for server errors (which never echo parameters) and network
// errors, so no secret from a query or the URL reaches the message.

import { unknownAppError } from '../codec.js'
import { driverErrorCode, type FailureReading, storeFailureOf } from '../kit/errors.js'

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'EAI_AGAIN',
])

/** A SQLSTATE: the server's own error, whose message never quotes a parameter. */
const SQLSTATE = /^[0-9A-Z]{5}$/

function readPostgresFailure(error: unknown): FailureReading {
  const code = driverErrorCode(error)
  if (code === '23503') {
    const detail = String((error as { detail?: unknown }).detail ?? '')
    return { why: '', hint: '', instead: unknownAppError(/\(app\)=\((.*)\)/.exec(detail)?.[1] ?? 'unknown') }
  }
  if (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03') {
    return {
      why: `PostgreSQL is not reachable (${code})`,
      hint: 'Check that the server is running and the URL is right.',
      keepCause: true,
    }
  }
  if (code === '28P01' || code === '28000') {
    return {
      why: 'PostgreSQL refused the credentials',
      hint: 'Check the user and password in the store URL.',
    }
  }
  const serverError = SQLSTATE.test(code)
  return {
    why: serverError && error instanceof Error ? `${error.message} (${code})` : '',
    hint: 'Check that the database is up and the store URL points at it.',
    keepCause: serverError,
  }
}

/** A StoreError for a failed PostgreSQL call; `where` names the operation and the password-free URL. */
export const storeFailure = storeFailureOf(readPostgresFailure)
