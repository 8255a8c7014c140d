// Keep-alive and the failure policy, driven by the background refresher and the emulator clock:
// an idle bookingtime connection outlives its 30-day refresh token with no caller; a connection
// failing for longer than the failure window is marked `error` for good (connection.error) and no
// longer retried automatically; a manual refresh recovers it (connection.recovered).
import { afterEach, describe, expect, it } from 'vitest'
import type { BackgroundRefresher } from '../../src/connections/refresher.js'
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
    expect(nextRefreshDue(tokens, getProvider('bookingexperts'), 0)).toBe(DAY * 1000)
    expect(nextRefreshDue(tokens, getProvider('bookingexperts'), 0, 3 * DAY)).toBe(3 * DAY * 1000)
  })
})

describe('failure window', () => {
  it('a connection failing for 3 days is marked error for good, raises connection.error, and recovers by hand', async () => {
    fixture = await setup('bookingtime')
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
