// The errors the token keeper hands to callers, each with a stable code and a sentence saying
// what to do next (never a secret): an unknown connection, a grant the platform no longer
// accepts, a connection given up after the failure window, a refresh held too long elsewhere,
// and a rotated refresh token the store could not take. Plus the summary kept in `lastError`.
import {
  InnkeeperError,
  isInnkeeperError,
  NeedsReauthError,
  StoreError,
  TokenEndpointError,
} from '../errors.js'
import type { ProviderDefinition } from '../providers/schema.js'
import { scrubTokenLike } from '../redact.js'
import type { ConnectionRecord } from '../stores/store.js'
import { reconnectCommand } from './reconnect.js'

export function unknownConnection(id: string): InnkeeperError {
  return new InnkeeperError(
    'unknown_connection',
    `There is no connection "${id}". List them with \`innkeeper connections\`.`,
  )
}

export function needsReauth(
  record: ConnectionRecord,
  cause?: unknown,
  provider?: ProviderDefinition,
): NeedsReauthError {
  const what = record.state === 'revoked' ? 'was revoked' : 'needs a new authorization'
  return new NeedsReauthError(
    `Connection ${record.id} ${what}: the platform no longer accepts its grant. Connect again with \`${reconnectCommand(record, provider)}\`.`,
    { cause: isInnkeeperError(cause) ? cause : undefined },
  )
}

/** Whether a token request failed because the platform no longer accepts the grant. */
export function isGrantGone(error: unknown): boolean {
  return (
    error instanceof NeedsReauthError ||
    (error instanceof TokenEndpointError && error.code === 'invalid_grant')
  )
}

export function isGrantLost(record: ConnectionRecord): boolean {
  return record.state === 'needs_reauth' || record.state === 'revoked'
}

export function givenUp(record: ConnectionRecord): InnkeeperError {
  const since = record.lastError?.since ? new Date(record.lastError.since).toISOString() : 'a long time'
  return new InnkeeperError(
    'provider_unavailable',
    `Connection ${record.id} has failed since ${since} (last error: ${record.lastError?.code ?? 'unknown'}) and is no longer retried automatically. Fix the cause, then run \`innkeeper refresh ${record.id}\`.`,
    { details: { lastError: record.lastError?.code ?? null } },
  )
}

export function refreshHeldTooLong(id: string): InnkeeperError {
  return new InnkeeperError(
    'lock_timeout',
    `Another process has been refreshing ${id} for too long. Try again; if it persists, check the workers sharing this store.`,
  )
}

/**
 * The loud error for a rotated token set the store would not take: kept in the recovery journal
 * at `path`, or lost (no journal, or it could not be written either).
 */
export function rotatedButNotSaved(
  record: ConnectionRecord,
  provider: ProviderDefinition,
  outcome: { path?: string; writeError?: unknown; hasJournal: boolean },
  cause: unknown,
): StoreError {
  const { path, writeError, hasJournal } = outcome
  const platform = provider.displayName
  const reason = isInnkeeperError(cause) ? scrubTokenLike(cause.message) : 'the write failed'
  const message = path
    ? `${platform} rotated the refresh token of ${record.id}, but the store could not be written (${reason}). The new tokens are kept, sealed, in the recovery journal ${path}; they are written to the store the next time this connection is used on this machine (or run \`innkeeper refresh ${record.id}\` once the store is back). Until then, do not refresh it from another machine.`
    : `${platform} rotated the refresh token of ${record.id}, but neither the store nor the recovery journal could be written (${reason}${writeError ? `; journal: ${(writeError as NodeJS.ErrnoException).code ?? 'write failed'}` : hasJournal ? '' : '; this store keeps no journal'}). The new refresh token is lost: connect it again with \`${reconnectCommand(record, provider)}\`.`
  return new StoreError('store_unavailable', message, {
    cause,
    details: { connection: record.id, journaled: path !== undefined, ...(path ? { journal: path } : {}) },
  })
}

/** What `lastError` keeps of a failure: its code and a message with nothing token-like in it. */
export function errorSummary(error: unknown, at: number): { code: string; message: string; at: number } {
  if (isInnkeeperError(error)) return { code: error.code, message: scrubTokenLike(error.message), at }
  return { code: 'unexpected', message: 'An unexpected error occurred while refreshing.', at }
}
