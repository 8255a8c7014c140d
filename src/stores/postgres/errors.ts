// How a failed PostgreSQL call reads to the user: a StoreError naming the operation and the
// password-free URL, with no secret from a query parameter or the URL in the message.

import { InnkeeperError, StoreError } from '../../errors.js'
import { unknownAppError } from '../codec.js'

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'EAI_AGAIN',
])

/**
 * A StoreError for a failed PostgreSQL call. `where` names the operation and the password-free
 * URL; the driver's message is kept only for server errors (which never echo parameters) and
 * network errors, so no secret from a query or the URL reaches the message.
 */
export function storeFailure(error: unknown, where: string): InnkeeperError {
  if (error instanceof InnkeeperError) return error
  const code =
    typeof error === 'object' && error !== null ? String((error as { code?: unknown }).code ?? '') : ''
  if (code === '23503') {
    const detail = String((error as { detail?: unknown }).detail ?? '')
    const app = /\(app\)=\((.*)\)/.exec(detail)?.[1] ?? 'unknown'
    return unknownAppError(app)
  }
  if (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03') {
    return new StoreError(
      'store_unavailable',
      `Could not ${where}: PostgreSQL is not reachable (${code}). Check that the server is running and the URL is right.`,
      { cause: error },
    )
  }
  if (code === '28P01' || code === '28000') {
    return new StoreError(
      'store_unavailable',
      `Could not ${where}: PostgreSQL refused the credentials. Check the user and password in the store URL.`,
    )
  }
  const reason =
    code && /^[0-9A-Z]{5}$/.test(code) && error instanceof Error ? `: ${error.message} (${code})` : ''
  return new StoreError(
    'store_unavailable',
    `Could not ${where}${reason}. Check that the database is up and the store URL points at it.`,
    { cause: code && /^[0-9A-Z]{5}$/.test(code) ? error : undefined },
  )
}
