// The token keeper as a user of the library sees it, over the emulators on loopback with one
// clock driving expiry (no sleeping, nothing timed): concurrent callers share one refresh
// (single-flight); a failing token endpoint is retried inline and then backed off, the tokens
// untouched until it answers; a connection failing for longer than the failure window is given
// up (connection.error) until a manual refresh; idle grants are kept alive by the background
// refresher.
import { afterEach, describe, expect, it } from 'vitest'
import type { BackgroundRefresher } from '../../src/connections/refresher.js'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

const DAY = 86_400
let fixture: Fixture | undefined
let refresher: BackgroundRefresher | undefined
afterEach(async () => {
  await refresher?.stop()
  refresher = undefined
  await fixture?.close()
  fixture = undefined
})

async function connectBookingSync(f: Fixture) {
  await f.keeper.apps.add('acme-bs', appFor(f.emulator, 'smily'))
  const start = await f.keeper.connect('acme-bs', { scopes: ['bookings_read', 'rentals_read'] })
  if (start.kind !== 'authorize') throw new Error('expected an authorization step')
  const consent = await answerConsent(start.url)
  return start.complete({ code: consent.code })
}

describe('single-flight', () => {
  it('sends 1,000 concurrent callers of an expired token through exactly one token request', async () => {
    fixture = await setup('bookingsync', { emulator: { config: { latencyMs: 50 } } })
    await connectBookingSync(fixture)
    fixture.advance(7200)
    const conn = fixture.keeper.connection('acme-bs/main')
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => conn.accessToken()))
    expect(new Set(tokens).size).toBe(1)
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
  })
})

describe('backoff', () => {
  it('retries a failing token endpoint with backoff and keeps the stored tokens untouched until it answers', async () => {
    fixture = await setup('bookingsync')
    await connectBookingSync(fixture)
    fixture.advance(7200)
    fixture.emulator.configure({ failNextTokenRequests: { count: 2, status: 503 } })
    const token = await fixture.keeper.connection('acme-bs/main').accessToken()
    expect(token).toBeTruthy()
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(3)
  })

  it('reports provider_unavailable when the token endpoint keeps failing, and recovers later', async () => {
    fixture = await setup('bookingsync')
    await connectBookingSync(fixture)
    fixture.advance(7200)
    fixture.emulator.configure({ failNextTokenRequests: { count: 3, status: 502 } })
    const conn = fixture.keeper.connection('acme-bs/main')
    await expect(conn.accessToken()).rejects.toMatchObject({ code: 'provider_unavailable' })
    expect((await conn.info()).state).toBe('error')
    await expect(conn.accessToken()).resolves.toBeTruthy()
    expect((await conn.info()).state).toBe('active')
  })

  it('backs off a connection that keeps failing: each failure leaves it alone longer before the worker tries again', async () => {
    fixture = await setup('bookingsync')
    const { keeper, emulator } = fixture
    await connectBookingSync(fixture)
    refresher = new (await import('../../src/connections/refresher.js')).BackgroundRefresher(
      keeper,
      keeper.store,
      'w',
    )
    emulator.configure({ failNextTokenRequests: { count: 1_000_000, status: 503 } })
    const pauses: number[] = []
    fixture.advance(7200 + 60)
    for (let round = 0; round < 3; round++) {
      await refresher.runOnce()
      const info = await keeper.connection('acme-bs/main').info()
      expect(info.state).toBe('error')
      pauses.push(info.refreshDueAt! - fixture.now())
      fixture.advance((info.refreshDueAt! - fixture.now()) / 1000)
    }
    expect(pauses[0]).toBeGreaterThan(0)
    expect(pauses[1]).toBeGreaterThan(pauses[0]!)
    expect(pauses[2]).toBeGreaterThan(pauses[1]!)
    // Nobody got a token meanwhile: the stored one is kept, and the next success clears the error.
    emulator.configure({ failNextTokenRequests: { count: 0, status: 503 } })
    await keeper.connection('acme-bs/main').accessToken()
    expect((await keeper.connection('acme-bs/main').info()).state).toBe('active')
  })
})

describe('keep-alive', () => {
  it('an idle bookingtime connection keeps working past its refresh token’s 30 days with no caller', async () => {
    fixture = await setup('bookingtime')
    const { keeper, emulator } = fixture
    await keeper.apps.add('acme-bt', appFor(emulator, 'bookingtime'))
    await keeper.connect('acme-bt', { organizationId: emulator.info.organizationId })
    const first = await keeper.connection('acme-bt/main').info()
    refresher = new (await import('../../src/connections/refresher.js')).BackgroundRefresher(
      keeper,
      keeper.store,
      'test-worker',
    )
    // Nobody asks for a token for 45 days; the background refresher runs twice a day.
    for (let halfDay = 0; halfDay < 90; halfDay++) {
      fixture.advance(DAY / 2)
      await refresher.runOnce()
    }
    const info = await keeper.connection('acme-bt/main').info()
    expect(info.state).not.toBe('needs_reauth')
    expect(info.refreshTokenExpiresAt!).toBeGreaterThan(first.refreshTokenExpiresAt! + 14 * DAY * 1000)
    expect(emulator.stats().tokenRequests.client_credentials).toBeGreaterThanOrEqual(2)
    const organization = await keeper
      .connection('acme-bt/main')
      .json<{ id: string }>('/de/organization/{organizationId}/show', {
        params: { organizationId: emulator.info.organizationId! },
      })
    expect(organization.id).toBe(emulator.info.organizationId)
  })

  it('rotating providers are refreshed at least every 24 hours by default, or as the app says', async () => {
    fixture = await setup('bookingexperts', {
      emulator: { accessTokenTtl: 7 * DAY, refreshedAccessTokenTtl: 7 * DAY } as never,
    })
    const { keeper, emulator } = fixture
    await keeper.apps.add(
      'be',
      appFor(emulator, 'bookingexperts', { redirectUri: 'http://127.0.0.1:9/callback' }),
    )
    await keeper.apps.add(
      'be-slow',
      appFor(emulator, 'bookingexperts', {
        redirectUri: 'http://127.0.0.1:9/callback',
        keepAliveSeconds: 3 * DAY,
      }),
    )
    const { getProvider } = await import('../../src/index.js')
    expect(getProvider('bookingexperts').refresh.keepAliveSeconds).toBe(DAY)
    expect(getProvider('bookingsync').refresh.keepAliveSeconds).toBe(DAY)
    const { nextRefreshDue } = await import('../../src/connections/refresh-policy.js')
    const tokens = {
      accessToken: 'a',
      tokenType: 'Bearer',
      refreshToken: 'r',
      obtainedAt: 0,
      expiresAt: 7 * DAY * 1000,
    }
    const idle = { tokens, metadata: {}, lastRefreshAt: 0, createdAt: 0, lastUsedAt: 0 }
    const provider = getProvider('bookingexperts')
    expect(nextRefreshDue(idle, { record: { settings: {} }, provider })).toBe(DAY * 1000)
    expect(nextRefreshDue(idle, { record: { settings: { keepAliveSeconds: 3 * DAY } }, provider })).toBe(
      3 * DAY * 1000,
    )
  })
})

describe('failure window', () => {
  it('a connection failing for 3 days is marked error for good, raises connection.error, and recovers by hand', async () => {
    // Renewed ahead of use, so the worker is the one that keeps failing.
    fixture = await setup('bookingtime', {
      keeper: { providers: [{ name: 'bookingtime', refresh: { proactive: 'always' } }] },
    })
    const { keeper, emulator } = fixture
    const events: string[] = []
    keeper.on('failed', (info) => events.push(`failed:${info.state}`))
    keeper.on('recovered', () => events.push('recovered'))
    const hook = await keeper.webhooks.add('https://example.com/hooks')
    await keeper.apps.add('acme-bt', appFor(emulator, 'bookingtime'))
    await keeper.connect('acme-bt', { organizationId: emulator.info.organizationId })
    refresher = new (await import('../../src/connections/refresher.js')).BackgroundRefresher(
      keeper,
      keeper.store,
      'w',
    )

    emulator.configure({ failNextTokenRequests: { count: 1_000_000, status: 503, body: 'json' } } as never)
    for (let hour = 0; hour < 80; hour++) {
      fixture.advance(3600)
      await refresher.runOnce()
    }
    let info = await keeper.connection('acme-bt/main').info()
    expect(info.state).toBe('error')
    expect(info.refreshDueAt).toBeNull()
    expect(info.lastError).toMatchObject({ final: true })
    expect(events).toEqual(['failed:error'])
    // No more automatic retries: the refresher claims nothing, callers get a clear error.
    const before = emulator.stats().tokenRequests
    fixture.advance(DAY)
    expect(await refresher.runOnce()).toBe(0)
    await expect(keeper.connection('acme-bt/main').accessToken()).rejects.toThrow(
      /no longer retried automatically/,
    )
    expect(emulator.stats().tokenRequests).toEqual(before)

    emulator.configure({ failNextTokenRequests: { count: 0, status: 503, body: 'json' } } as never)
    info = await keeper.connection('acme-bt/main').refresh()
    expect(info.state).toBe('active')
    expect(events).toEqual(['failed:error', 'recovered'])
    await keeper.close() // waits for the outbox writer
    const again = await fixture.reopen()
    const types = (await again.store.outbox.list({ receiverId: hook.id })).map(
      (entry) => JSON.parse(entry.body).type,
    )
    expect(types).toEqual(['connection.created', 'connection.error', 'connection.recovered'])
  })

  it('the window is configurable (INNKEEPER_FAILURE_WINDOW or failureWindow)', async () => {
    const { failureWindowFrom } = await import('../../src/connections/refresh-policy.js')
    expect(failureWindowFrom(undefined)).toBe(3 * DAY * 1000)
    expect(failureWindowFrom('12h')).toBe(12 * 3600 * 1000)
    expect(failureWindowFrom(5000)).toBe(5000)
    expect(() => failureWindowFrom('soon')).toThrow(/not a duration/)
  })
})
