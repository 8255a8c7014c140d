// What a failed Redis call means, for the shared store-error translator (../kit/errors.ts): server
// replies (READONLY, OOM…) and network errors never echo a command's arguments, so their first
// line is kept; refused credentials get their own sentence.

import { driverErrorCode, type FailureReading, storeFailureOf } from '../kit/errors.js'

function readRedisFailure(error: unknown): FailureReading {
  const message = error instanceof Error ? error.message : ''
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return { why: 'Redis refused the credentials', hint: 'Check the password in the store URL.' }
  }
  const code = driverErrorCode(error)
  return {
    why: message ? (message.split('\n')[0]?.slice(0, 200) ?? '') : code,
    hint: 'Check that Redis is running and the store URL points at it.',
  }
}

/** A StoreError for a failed Redis call, naming the operation and the password-free URL. */
export const redisFailure = storeFailureOf(readRedisFailure)
