// Booking Experts through the library: the redirect with state, the subscription kept as
// metadata, JSON:API headers, the `expires` refresh answer, and refresh-and-retry on a 401.
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConnectionInfo } from '../../src/index.js'
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
    // The documented example request: `accept: application/vnd.api+json`, `accept-language: en,nl`.
    expect(fixture.emulator.stats().lastApiRequestHeaders).toEqual({
      accept: 'application/vnd.api+json',
      'accept-language': 'en,nl',
    })
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

  it('sends the seed’s fields: redirect_uri on the code exchange, none on refresh, the client in the form body', async () => {
    fixture = await setup('bookingexperts')
    await connect(fixture)
    fixture.emulator.advance(604_800 + 1)
    await fixture.keeper.connection('acme-be/main').json('/v3/administrations')
    const fields = fixture.emulator.stats().lastTokenRequestFields
    expect(fields.authorization_code).toEqual([
      'client_id',
      'client_secret',
      'code',
      'grant_type',
      'redirect_uri',
    ])
    expect(fields.refresh_token).toEqual(['client_id', 'client_secret', 'grant_type', 'refresh_token'])
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

  it('never lets an install whose subscription cannot be read replace main: its tokens wait under a name of their own', async () => {
    fixture = await setup('bookingexperts', { emulator: { organizationIds: ['2'] } })
    const main = await connect(fixture)
    // The documented App Store install: the callback carries a code and nothing else, and the
    // subscription call right after it fails.
    fixture.emulator.configure({ failNextApiRequests: 1 })
    const { location } = fixture.emulator.approve({ redirectUri: REDIRECT, organizationId: '2' })
    const installed = await fixture.keeper.completeInstallCallback('acme-be', location)
    expect(installed.name).not.toBe('main')
    expect(installed.name).toMatch(/^install-pending-/)
    expect(installed.metadata.pendingSteps).toEqual(['subscription'])
    expect(installed.metadata.subscriptionId).toBeUndefined()
    expect(installed.lastError?.code).toBe('provider_unavailable')

    // main keeps its grant: same subscription, and its own refresh token still refreshes.
    const kept = await fixture.keeper.connection('acme-be/main').refresh()
    expect(kept.state).toBe('active')
    expect(kept.metadata.subscriptionId).toBe(main.metadata.subscriptionId)
    expect(fixture.emulator.stats().tokenErrors.invalid_grant ?? 0).toBe(0)
    expect((await fixture.keeper.connections()).map((c) => c.name).sort()).toEqual(
      ['main', installed.name].sort(),
    )

    // The background refresher reads the subscription again a little later.
    fixture.advance(120)
    const refresher = fixture.keeper.startRefresher({ idleMs: 20 })
    try {
      await vi.waitFor(
        async () => {
          const info = await fixture.keeper.connection(installed.id).info()
          expect(info.metadata.pendingSteps).toBeUndefined()
        },
        { timeout: 60_000, interval: 50 },
      )
    } finally {
      await refresher.stop()
    }
    const resolved = await fixture.keeper.connection(installed.id).info()
    expect(resolved.metadata.subscriptionId).toBeTruthy()
    expect(resolved.metadata.subscriptionId).not.toBe(main.metadata.subscriptionId)
    expect(resolved.metadata.administrationIds).toEqual(['2001'])
    expect(resolved.lastError).toBeNull()
    expect(resolved.state).toBe('active')
  })

  it('reads a pending subscription again on the next use of the connection', async () => {
    fixture = await setup('bookingexperts')
    await fixture.keeper.apps.add(
      'acme-be',
      appFor(fixture.emulator, 'bookingexperts', { redirectUri: REDIRECT }),
    )
    fixture.emulator.configure({ failNextApiRequests: 1 })
    const { location } = fixture.emulator.approve({ redirectUri: REDIRECT })
    const installed = await fixture.keeper.completeInstallCallback('acme-be', location)
    expect(installed.metadata.pendingSteps).toEqual(['subscription'])
    const answer = await fixture.keeper
      .connection(installed.id)
      .json<{ data: unknown[] }>('/v3/administrations')
    expect(answer.data).toHaveLength(2)
    const info = await fixture.keeper.connection(installed.id).info()
    expect(info.metadata.pendingSteps).toBeUndefined()
    expect(info.metadata.subscriptionId).toBeTruthy()
  })

  it('updates the one connection of an organization that installs again, whatever it is called', async () => {
    fixture = await setup('bookingexperts')
    const main = await connect(fixture)
    const before = await fixture.keeper.connection('acme-be/main').token()
    const first = fixture.emulator.approve({ redirectUri: REDIRECT })
    const again = await fixture.keeper.completeInstallCallback('acme-be', first.location)
    expect(again.id).toBe('acme-be/main')
    const second = fixture.emulator.approve({ redirectUri: REDIRECT })
    expect((await fixture.keeper.completeInstallCallback('acme-be', second.location)).id).toBe('acme-be/main')
    const connections = await fixture.keeper.connections()
    expect(connections).toHaveLength(1)
    expect(connections[0]!.metadata.subscriptionId).toBe(main.metadata.subscriptionId)
    const after = await fixture.keeper.connection('acme-be/main').token()
    expect(after.accessToken).not.toBe(before.accessToken)
  })

  it('gives a first install of an organization its own connection next to an existing one', async () => {
    fixture = await setup('bookingexperts', { emulator: { organizationIds: ['2'] } })
    await connect(fixture)
    const { location } = fixture.emulator.approve({ redirectUri: REDIRECT, organizationId: '2' })
    const installed = await fixture.keeper.completeInstallCallback('acme-be', location)
    expect(installed.id).toBe(`acme-be/install-${installed.metadata.subscriptionId}`)
    expect(await fixture.keeper.connections()).toHaveLength(2)
  })

  it('moves the grant of a pending install whose subscription turns out to be connected already', async () => {
    fixture = await setup('bookingexperts')
    await connect(fixture)
    fixture.emulator.configure({ failNextApiRequests: 1 })
    const { location } = fixture.emulator.approve({ redirectUri: REDIRECT })
    const installed = await fixture.keeper.completeInstallCallback('acme-be', location)
    expect(installed.name).toMatch(/^install-pending-/)
    const error = await fixture.keeper
      .connection(installed.id)
      .json('/v3/administrations')
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'unknown_connection', details: { movedTo: 'acme-be/main' } })
    const connections = await fixture.keeper.connections()
    expect(connections.map((c) => c.id)).toEqual(['acme-be/main'])
    expect(await fixture.keeper.connection('acme-be/main').json('/v3/administrations')).toBeTruthy()
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
})

describe('Booking Experts API keys', () => {
  async function withApp(options: Parameters<typeof setup>[1] = {}) {
    fixture = await setup('bookingexperts', options)
    await fixture.keeper.apps.add(
      'acme-be',
      appFor(fixture.emulator, 'bookingexperts', { redirectUri: REDIRECT }),
    )
  }

  it('connects with an API key and calls the API with it, limited to its organization, never refreshing it', async () => {
    await withApp({ emulator: { organizationIds: ['2'] } })
    const key = fixture.emulator.info.apiKey!
    const result = await fixture.keeper.connect('acme-be', { name: 'key', apiKey: key })
    expect(result.kind).toBe('connected')
    const connected = (result as { connection: ConnectionInfo }).connection
    expect(connected).toMatchObject({
      id: 'acme-be/key',
      state: 'active',
      metadata: { grant: 'api_key' },
      accessTokenExpiresAt: null,
      refreshDueAt: null,
      hasRefreshToken: false,
    })
    const conn = fixture.keeper.connection('acme-be/key')
    const own = await conn.json<{ data: Array<{ id: string }> }>('/v3/administrations')
    expect(own.data.map((administration) => administration.id)).toEqual(['1001', '1002'])
    expect((await conn.fetch('/v3/administrations/2001')).status).toBe(404)
    // A key is not scoped: the reservations an OAuth token needs reservations_read for are there.
    expect((await conn.fetch('/v3/administrations/1001/reservations')).status).toBe(200)

    // What the token API hands out: the key itself, and the header it goes in.
    expect(await conn.token()).toEqual({
      accessToken: key,
      tokenType: 'api_key',
      expiresAt: null,
      kind: 'api_key',
      header: { name: 'x-api-key', value: key },
    })

    // Never refreshed: not by hand, not by the background refresher, not a year later.
    expect((await conn.refresh()).state).toBe('active')
    fixture.advance(365 * 24 * 3600)
    const refresher = fixture.keeper.startRefresher({ idleMs: 20 })
    await refresher.runOnce()
    await refresher.stop()
    expect(refresher.stats.claimed).toBe(0)
    expect((await conn.json<{ data: unknown[] }>('/v3/administrations')).data).toHaveLength(2)
    expect((await conn.info()).state).toBe('active')
    expect(fixture.emulator.stats().tokenRequests.total).toBe(0)
  })

  it('keeps the API key sealed at rest', async () => {
    await withApp()
    const key = fixture.emulator.info.apiKey!
    await fixture.keeper.connect('acme-be', { name: 'key', apiKey: key })
    await fixture.keeper.close()
    const raw = readdirSync(fixture.dir)
      .filter((file) => file.startsWith('innkeeper.db'))
      .map((file) => readFileSync(join(fixture.dir, file)).toString('latin1'))
      .join('')
    expect(raw).toContain('acme-be/key')
    expect(raw.includes(key)).toBe(false)
  })

  it('refuses a wrong API key before storing anything, without repeating it', async () => {
    await withApp()
    const wrong = 'wrong-key-7d865e959b2466918c9863afca942d0f'
    const error = await fixture.keeper
      .connect('acme-be', { name: 'key', apiKey: wrong })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'invalid_token' })
    expect(String((error as Error).message)).not.toContain(wrong)
    expect(await fixture.keeper.connections()).toEqual([])
  })

  it('with replace: false an API key never takes the name of an existing connection', async () => {
    await withApp()
    const key = fixture.emulator.info.apiKey!
    await fixture.keeper.connect('acme-be', { name: 'key', apiKey: key })
    const before = fixture.emulator.stats().apiRequests
    const error = await fixture.keeper
      .connect('acme-be', { name: 'key', apiKey: 'another-key-1234567890', replace: false })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'conflict' })
    expect(String((error as Error).message)).not.toContain('another-key')
    // Refused before the platform was asked, and the first key still works.
    expect(fixture.emulator.stats().apiRequests).toEqual(before)
    expect((await fixture.keeper.connection('acme-be/key').fetch('/v3/administrations')).status).toBe(200)
  })

  it('disconnecting an API-key connection forgets the key without calling the OAuth revocation', async () => {
    await withApp()
    await fixture.keeper.connect('acme-be', { name: 'key', apiKey: fixture.emulator.info.apiKey! })
    expect(await fixture.keeper.disconnect('acme-be/key')).toEqual({
      revoked: false,
      revocationEndpoint: false,
    })
    expect(fixture.emulator.stats().tokenRequests.total).toBe(0)
    expect(await fixture.keeper.connections()).toEqual([])
  })

  it('sends the key in whatever header the provider definition names (a correction is data)', async () => {
    await withApp({
      keeper: {
        providers: [{ name: 'bookingexperts', apiKey: { header: 'Authorization', format: 'Token {key}' } }],
      },
    })
    // The emulator knows only X-API-KEY, as the platform's public docs show: a key sent as
    // `Authorization: Token …` is refused, so the corrected header really went out.
    await expect(
      fixture.keeper.connect('acme-be', { name: 'key', apiKey: fixture.emulator.info.apiKey! }),
    ).rejects.toMatchObject({ code: 'invalid_token' })
    expect(await fixture.keeper.connections()).toEqual([])
  })

  it('refuses an API key for a platform whose definition declares none', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    await expect(fixture.keeper.connect('acme-bs', { apiKey: 'some-key' })).rejects.toMatchObject({
      code: 'invalid_config',
    })
  })
})
