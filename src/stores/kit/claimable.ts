// The connection states the background refresher may claim (`claimDueConnections`): `active` and
// `error`; a connection that needs a person (`needs_reauth`, `revoked`) is never claimed. One list
// for every driver: SQL `IN (…)` (SQLite, PostgreSQL), the Redis `due` set, the memory store.
// PostgreSQL's partial index `innkeeper_connections_due` (its migration 1) repeats the list as
// released SQL: changing it needs a new migration that makes that index again.

import type { StoredConnectionState } from '../../model/connection.js'

export const CLAIMABLE_STATES: readonly StoredConnectionState[] = ['active', 'error']

export function isClaimable(state: StoredConnectionState): boolean {
  return CLAIMABLE_STATES.includes(state)
}

/** The list as SQL literals, for `state IN (${CLAIMABLE_STATES_SQL})`. */
export const CLAIMABLE_STATES_SQL = CLAIMABLE_STATES.map((state) => `'${state}'`).join(', ')
