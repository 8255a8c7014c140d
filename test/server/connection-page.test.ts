// The connection page and the fleet strip over plain HTTP (no browser): the page of an unknown
// connection is a 404 page, the page and the dashboard need the operator's login, the header marks
// the current page, and the strip's numbers follow the rules a reader is told in docs/server.md
// (needs-reauth connections are not due; a due time already past counts as overdue in the first
// hour; failures are failed refreshes, token hand-outs are not refreshes).
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectionInfo } from '../../src/index.js'
import { fleetSummary } from '../../src/server/fleet-summary.js'
import { openMemoryStore } from '../../src/stores/index.js'
import { connectBookingSync, type ServerFixture, startServer, Visitor } from './support.js'

let f: ServerFixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

const HOUR = 3_600_000

describe('connection pages', () => {
  it('answers 404 for an unknown connection, and sends visitors without a session to the login page', async () => {
    f = await startServer('bookingsync', { adminPassword: 'pw' })
    await connectBookingSync(f)
    const stranger = new Visitor(f.baseUrl)
    const refused = await stranger.request('/connections/acme-bs/main')
    expect(refused.status).toBe(303)
    expect(refused.headers.get('location')).toMatch(/^\/login/)

    const operator = new Visitor(f.baseUrl)
    await operator.login('pw')
    const missing = await operator.request('/connections/acme-bs/nope')
    expect(missing.status).toBe(404)
    expect(missing.text).toContain('id="error-code">unknown_connection<')
    const page = await operator.request('/connections/acme-bs/main')
    expect(page.status).toBe(200)
    expect(page.text).toContain(
      '<svg id="refresh-timeline" class="chart" role="img" aria-label="Refresh timeline from ',
    )
    expect(page.text).toMatch(/<a href="\/connections\/acme-bs\/main" aria-current="page">acme-bs\/main<\/a>/)
    const audit = await operator.request('/audit')
    expect(audit.text).toMatch(/<a href="\/audit" aria-current="page">Audit trail<\/a>/)
    expect(audit.text).not.toMatch(/<a href="\/" aria-current/)
  })
})

describe('the fleet strip numbers', () => {
  const connection = (id: string, overrides: Partial<ConnectionInfo>): ConnectionInfo => ({
    id,
    app: id.split('/')[0] ?? '',
    name: id.split('/')[1] ?? '',
    provider: 'bookingsync',
    state: 'active',
    scopes: [],
    metadata: {},
    accessTokenExpiresAt: null,
    refreshTokenExpiresAt: null,
    hasRefreshToken: true,
    lastRefreshAt: null,
    refreshDueAt: null,
    lastError: null,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  })

  it('counts refreshes and failures per hour from the store, and refreshes due from due times', async () => {
    const store = openMemoryStore()
    const now = Date.UTC(2026, 10, 29, 12, 30)
    const entry = (at: number, action: string, outcome: 'ok' | 'failed' = 'ok') => ({
      id: `${at}-${action}`,
      at,
      actor: 'worker:w1',
      action,
      connection: 'a/main',
      outcome,
    })
    await store.appendAudit([
      entry(now - 25 * HOUR, 'token.refreshed'), // older than a day
      entry(now - 2 * HOUR, 'token.refreshed'),
      entry(now - 2 * HOUR + 60_000, 'connection.error', 'failed'),
      entry(now - 10 * 60_000, 'token.refreshed'),
      entry(now - 5 * 60_000, 'connection.needs_reauth', 'failed'),
      entry(now - 60_000, 'token.issued'),
    ])
    const summary = await fleetSummary(
      store,
      [
        connection('a/main', { refreshDueAt: now + 90 * 60_000 }),
        connection('a/late', { state: 'expiring', refreshDueAt: now - 60_000 }),
        connection('a/retry', { state: 'error', refreshDueAt: now + 5 * 60_000 }),
        connection('a/lost', { state: 'needs_reauth', refreshDueAt: now + 60_000 }),
        connection('a/far', { refreshDueAt: now + 30 * HOUR }),
        connection('a/expiry', { accessTokenExpiresAt: now + 3 * HOUR }),
      ],
      now,
    )
    expect(summary).toMatchObject({ total: 6, refreshes: 2, failures: 2, due: 4, overdue: 1 })
    expect(summary.byState.find((s) => s.state === 'active')?.count).toBe(3)
    expect(summary.next.map((hour) => hour.due).slice(0, 4)).toEqual([2, 1, 0, 1])
    const hourOf = (at: number) => summary.past.find((hour) => hour.start <= at && at < hour.end)
    expect(hourOf(now - 2 * HOUR)).toMatchObject({ refreshes: 1, failures: 1 })
    expect(hourOf(now - 5 * 60_000)).toMatchObject({ refreshes: 1, failures: 1 })
    await store.close()
  })
})
