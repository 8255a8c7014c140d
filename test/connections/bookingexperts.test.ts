// Booking Experts through the library: the redirect with state, the subscription kept as
// metadata, JSON:API headers, the `expires` refresh answer, and refresh-and-retry on a 401.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

let fixture: Fixture
afterEach(async () => fixture?.close())

const REDIRECT = 'http://127.0.0.1:9/booking_experts/oauth_callback'

async function connect(f: Fixture) {
  await f.keeper.apps.add('acme-be', appFor(f.emulator, 'bookingexperts', { redirectUri: REDIRECT }))
  const start = await f.keeper.authorize('acme-be')
  const consent = await answerConsent(start.url)
  expect(consent.location?.startsWith(REDIRECT)).toBe(true)
  expect(consent.state).toBe(start.state)
  return f.keeper.completeAuthorization(consent.location!)
}

describe('Booking Experts through the library', () => {
  it('completes the redirect callback and keeps the subscription, administrations and return URL', async () => {
    fixture = await setup('bookingexperts')
    const connection = await connect(fixture)
    expect(connection.metadata.subscriptionId).toBeTruthy()
    expect(Array.isArray(connection.metadata.administrationIds)).toBe(true)
    expect((connection.metadata.administrationIds as unknown[]).length).toBeGreaterThan(0)
    expect(String(connection.metadata.returnUrl)).toMatch(/^https?:\/\//)
  })

  it('sends the JSON:API accept header and accept-language on every call', async () => {
    fixture = await setup('bookingexperts')
    await connect(fixture)
    const answer = await fixture.keeper
      .connection('acme-be/main')
      .json<{ data: unknown[] }>('/v3/administrations')
    expect(Array.isArray(answer.data)).toBe(true)
  })

  it('refreshes once when the API says the access token expired, and retries the call', async () => {
    fixture = await setup('bookingexperts')
    await connect(fixture)
    // Only the emulator's clock moves: our clock still thinks the token is fresh, so the 401 drives the refresh.
    fixture.emulator.advance(604_800 + 1)
    const conn = fixture.keeper.connection('acme-be/main')
    const answer = await conn.json<{ data: unknown[] }>('/v3/administrations')
    expect(Array.isArray(answer.data)).toBe(true)
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
    const info = await conn.info()
    // The refresh answer said `expires: 3600`.
    expect(info.accessTokenExpiresAt! - fixture.now()).toBeGreaterThan(3_500_000)
    expect(info.accessTokenExpiresAt! - fixture.now()).toBeLessThanOrEqual(3_600_000)
  })

  it('refuses a callback whose state was forged or already used', async () => {
    fixture = await setup('bookingexperts')
    await fixture.keeper.apps.add(
      'acme-be',
      appFor(fixture.emulator, 'bookingexperts', { redirectUri: REDIRECT }),
    )
    const start = await fixture.keeper.authorize('acme-be')
    const consent = await answerConsent(start.url)
    const forged = consent.location!.replace(`state=${consent.state}`, 'state=forged')
    await expect(fixture.keeper.completeAuthorization(forged)).rejects.toMatchObject({
      code: 'invalid_state',
    })
    await fixture.keeper.completeAuthorization(consent.location!)
    await expect(fixture.keeper.completeAuthorization(consent.location!)).rejects.toMatchObject({
      code: 'invalid_state',
    })
    expect(fixture.emulator.stats().tokenRequests.authorization_code).toBe(1)
  })

  it('reports a denied consent as access_denied and stores nothing', async () => {
    fixture = await setup('bookingexperts')
    await fixture.keeper.apps.add(
      'acme-be',
      appFor(fixture.emulator, 'bookingexperts', { redirectUri: REDIRECT }),
    )
    const start = await fixture.keeper.authorize('acme-be')
    const consent = await answerConsent(start.url, 'deny')
    expect(consent.error).toBe('access_denied')
    await expect(fixture.keeper.completeAuthorization(consent.location!)).rejects.toMatchObject({
      code: 'access_denied',
    })
    expect(await fixture.keeper.connections()).toEqual([])
  })

  it('works through a real loopback callback server, as an app server would', async () => {
    fixture = await setup('bookingexperts')
    const received: string[] = []
    const server = createServer((request, response) => {
      received.push(request.url ?? '')
      response.end('ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/booking_experts/oauth_callback`
    try {
      await fixture.keeper.apps.add('acme-be', appFor(fixture.emulator, 'bookingexperts', { redirectUri }))
      const start = await fixture.keeper.authorize('acme-be')
      const consent = await answerConsent(start.url)
      await fetch(consent.location!)
      const connection = await fixture.keeper.completeAuthorization(new URL(received[0]!, redirectUri).href)
      expect(connection.state).toBe('active')
    } finally {
      server.close()
    }
  })
})

describe('installs started in the Booking Experts App Store', () => {
  it('completes a callback that carries a code and nothing else, naming the connection after the subscription', async () => {
    fixture = await setup('bookingexperts')
    await fixture.keeper.apps.add(
      'acme-be',
      appFor(fixture.emulator, 'bookingexperts', { redirectUri: REDIRECT }),
    )
    const { location } = fixture.emulator.approve({ redirectUri: REDIRECT })
    const connection = await fixture.keeper.completeInstallCallback('acme-be', location)
    expect(connection.id).toBe(`acme-be/install-${connection.metadata.subscriptionId}`)
    expect(connection.state).toBe('active')
  })

  it('refuses a stateless callback for a platform that never sends one', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    await expect(fixture.keeper.completeInstallCallback('acme-bs', '?code=abc')).rejects.toMatchObject({
      code: 'invalid_state',
    })
  })
})

describe('Booking Experts API refusals', () => {
  it('names the missing scope when a call needs one the token lacks', async () => {
    fixture = await setup('bookingexperts')
    const connection = await connect(fixture)
    const administration = (connection.metadata.administrationIds as string[])[0]!
    const error = await fixture.keeper
      .connection('acme-be/main')
      .fetch('/v3/administrations/{id}/reservations', { params: { id: administration } })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      code: 'insufficient_scope',
      status: 403,
      details: { scope: 'reservations_read' },
    })
    expect((error as Error).message).toContain('reservations_read')
  })

  it('waits out a 429 with Retry-After and then answers', async () => {
    fixture = await setup('bookingexperts')
    await connect(fixture)
    fixture.emulator.configure({ rateLimitNextApiRequests: { count: 1, retryAfter: 1 } })
    const started = Date.now()
    const answer = await fixture.keeper
      .connection('acme-be/main')
      .json<{ data: unknown[] }>('/v3/administrations')
    expect(Array.isArray(answer.data)).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })
})
