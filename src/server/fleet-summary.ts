// What the dashboard's fleet strip shows, computed cheaply: connections by state (from the list
// the dashboard loads anyway), refreshes and failures per hour over the last 24 hours (counted by
// the store, `countAudit`, never listed), and refreshes due per hour over the next 24 hours (from
// each connection's due time, else its access token's expiry).
import type { ConnectionInfo, ConnectionState } from '../model/connection.js'
import type { Store } from '../stores/store.js'

export const HOUR_MS = 3_600_000
export const FLEET_WINDOW_HOURS = 24

/** Every state a connection can show, healthiest first (the strip's order). */
export const STATE_ORDER: ConnectionState[] = [
  'active',
  'refreshing',
  'expiring',
  'error',
  'needs_reauth',
  'revoked',
]

/** Audit actions that are a refresh, and the failed outcomes of refreshing. */
export const REFRESH_ACTION = 'token.refreshed'
export const FAILURE_ACTIONS = new Set(['connection.error', 'connection.needs_reauth', 'token.refreshed'])

/** States the background refresher still works on (it claims `active` and `error` records). */
const REFRESHED_STATES = new Set<ConnectionState>(['active', 'refreshing', 'expiring', 'error'])

export interface HourBar {
  /** Start of the hour shown (ms); the past bars are clock hours, the future ones start at now. */
  start: number
  end: number
}

export interface PastHour extends HourBar {
  refreshes: number
  failures: number
}

export interface NextHour extends HourBar {
  due: number
}

export interface FleetSummary {
  now: number
  total: number
  byState: Array<{ state: ConnectionState; count: number }>
  past: PastHour[]
  next: NextHour[]
  refreshes: number
  failures: number
  due: number
  /** Of `due`, how many were already due (overdue: no worker running, or retrying). */
  overdue: number
}

export async function fleetSummary(
  store: Store,
  connections: ConnectionInfo[],
  now: number,
): Promise<FleetSummary> {
  const since = now - FLEET_WINDOW_HOURS * HOUR_MS
  const counts = await store.countAudit(since, HOUR_MS)

  const firstHour = Math.floor(since / HOUR_MS) * HOUR_MS
  const past: PastHour[] = []
  for (let start = firstHour; start <= now; start += HOUR_MS) {
    past.push({
      start: Math.max(start, since),
      end: Math.min(start + HOUR_MS, now),
      refreshes: 0,
      failures: 0,
    })
  }
  for (const count of counts) {
    const hour = past[Math.round((count.bucket - firstHour) / HOUR_MS)]
    if (!hour) continue
    if (count.outcome === 'failed' && FAILURE_ACTIONS.has(count.action)) hour.failures += count.count
    else if (count.outcome === 'ok' && count.action === REFRESH_ACTION) hour.refreshes += count.count
  }

  const next: NextHour[] = Array.from({ length: FLEET_WINDOW_HOURS }, (_, index) => ({
    start: now + index * HOUR_MS,
    end: now + (index + 1) * HOUR_MS,
    due: 0,
  }))
  let overdue = 0
  for (const connection of connections) {
    if (!REFRESHED_STATES.has(connection.state)) continue
    const dueAt =
      connection.refreshDueAt ?? (connection.hasRefreshToken ? connection.accessTokenExpiresAt : null)
    if (dueAt === null || dueAt >= now + FLEET_WINDOW_HOURS * HOUR_MS) continue
    if (dueAt <= now) overdue += 1
    const hour = next[Math.max(0, Math.floor((dueAt - now) / HOUR_MS))]
    if (hour) hour.due += 1
  }

  const byState = STATE_ORDER.map((state) => ({
    state,
    count: connections.filter((connection) => connection.state === state).length,
  }))
  return {
    now,
    total: connections.length,
    byState,
    past,
    next,
    refreshes: past.reduce((sum, hour) => sum + hour.refreshes, 0),
    failures: past.reduce((sum, hour) => sum + hour.failures, 0),
    due: next.reduce((sum, hour) => sum + hour.due, 0),
    overdue,
  }
}
