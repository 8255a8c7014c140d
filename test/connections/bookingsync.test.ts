// BookingSync / Smily end to end through the library: the out-of-band authorization, API calls,
// expiry and rotation, restarts, concurrency, and losing the grant.

import { afterEach, describe, expect, it } from 'vitest'
import { NeedsReauthError } from '../../src/index.js'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'
import { scratchStore } from '../support/services.js'

let fixture: Fixture
afterEach(async () => fixture?.close())

async function connectBookingSync(f: Fixture, scopes = ['bookings_read', 'rentals_read']) {
  await f.keeper.apps.add('acme-bs', appFor(f.emulator, 'smily'))
  const start = await f.keeper.connect('acme-bs', { scopes })
  if (start.kind !== 'authorize') throw new Error('expected an authorization step')
  const consent = await answerConsent(start.url)
  expect(consent.code).toBeTruthy()
  return start.complete({ code: consent.code })
}

describe('BookingSync through the library', () => {
  it('connects with the out-of-band code and calls the API with the token', async () => {
    fixture = await setup('bookingsync')
    const connection = await connectBookingSync(fixture)
    expect(connection).toMatchObject({
      id: 'acme-bs/main',
      provider: 'bookingsync',
      state: 'active',
      hasRefreshToken: true,
    })
    expect(connection.scopes).toEqual(expect.arrayContaining(['public', 'bookings_read', 'rentals_read']))
    const rentals = await fixture.keeper.connection('acme-bs').json<{ rentals: unknown[] }>('/rentals')
    expect(rentals.rentals.length).toBeGreaterThan(0)
  })

  it('refreshes once after the 2-hour token expires, rotating the refresh token, and keeps working after a restart', async () => {
    fixture = await setup('bookingsync')
    await connectBookingSync(fixture)
    const conn = fixture.keeper.connection('acme-bs/main')
    const first = await conn.accessToken()
    fixture.advance(7200)
    await conn.json('/rentals')
    const second = await conn.accessToken()
    expect(second).not.toBe(first)
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)

    const restarted = await fixture.reopen()
    fixture.advance(7200)
    await restarted.connection('acme-bs/main').json('/rentals')
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(2)
    expect(fixture.emulator.stats().reuseDetected).toBe(0)
  })

  it('never shows the provider a reused refresh token, however many refreshes race', async () => {
    fixture = await setup('bookingsync', { emulator: { config: { reuseDetection: true } } })
    await connectBookingSync(fixture)
    const other = await fixture.reopen()
    for (let round = 0; round < 5; round++) {
      fixture.advance(7200)
      await Promise.all([
        ...Array.from({ length: 50 }, () => fixture.keeper.connection('acme-bs/main').accessToken()),
        ...Array.from({ length: 50 }, () => other.connection('acme-bs/main').accessToken()),
      ])
    }
    const stats = fixture.emulator.stats()
    expect(stats.tokenRequests.refresh_token).toBe(5)
    expect(stats.reuseDetected).toBe(0)
    expect(stats.familiesRevoked).toBe(0)
  })

  it('puts the connection in needs_reauth when the owner uninstalls the app', async () => {
    fixture = await setup('bookingsync')
    await connectBookingSync(fixture)
    const events: string[] = []
    fixture.keeper.on('needs_reauth', (info) => events.push(info.id))
    fixture.emulator.revokeAll()
    fixture.advance(7200)
    const conn = fixture.keeper.connection('acme-bs/main')
    await expect(conn.accessToken()).rejects.toBeInstanceOf(NeedsReauthError)
    await expect(conn.accessToken()).rejects.toThrow(/innkeeper connect acme-bs --name main/)
    expect((await conn.info()).state).toBe('needs_reauth')
    expect(events).toEqual(['acme-bs/main'])
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
  })

  it('passes a scope it does not list on to BookingSync with a warning, and reports the platform’s invalid_scope', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    const start = await fixture.keeper.authorize('acme-bs', {
      scopes: ['rentals_read', 'everything'],
      redirectUri: 'http://127.0.0.1:9/callback',
    })
    expect(start.warnings).toHaveLength(1)
    expect(start.warnings[0]).toMatch(/does not list the scope everything .*may refuse \(invalid_scope\)/)
    expect(new URL(start.url).searchParams.get('scope')).toBe('rentals_read everything')
    // The platform knows no such scope: it sends the browser back with invalid_scope.
    const consent = await fetch(start.url, { redirect: 'manual' })
    const callback = consent.headers.get('location')!
    expect(new URL(callback).searchParams.get('error')).toBe('invalid_scope')
    const refused = start.complete(callback)
    await expect(refused).rejects.toMatchObject({ code: 'invalid_scope' })
    await expect(refused).rejects.toThrow(/refused the requested scopes\. It said: ".*everything/)
    expect(await fixture.keeper.connections()).toEqual([])
  })

  it('sends client_id and client_secret in the POST form, as the seed’s curl does, on the code exchange and on every refresh', async () => {
    fixture = await setup('bookingsync')
    await connectBookingSync(fixture)
    fixture.advance(7200)
    await fixture.keeper.connection('acme-bs/main').accessToken()
    const fields = fixture.emulator.stats().lastTokenRequestFields
    // No `authorization` header: the credentials travel in the form, as in the documented example.
    expect(fields.authorization_code).toEqual([
      'client_id',
      'client_secret',
      'code',
      'grant_type',
      'redirect_uri',
    ])
    expect(fields.refresh_token).toEqual([
      'client_id',
      'client_secret',
      'grant_type',
      'redirect_uri',
      'refresh_token',
    ])
  })

  it('renews the access token before it expires, as the seed advises, while the old one still works at the platform', async () => {
    fixture = await setup('bookingsync')
    await connectBookingSync(fixture)
    const conn = fixture.keeper.connection('acme-bs/main')
    const first = await conn.accessToken()
    fixture.advance(7200 - 120) // two minutes before the 2-hour token expires
    const stillValid = await fetch(`${fixture.emulator.info.apiUrl}/rentals`, {
      headers: { authorization: `Bearer ${first}` },
    })
    expect(stillValid.status).toBe(200)
    const second = await conn.accessToken()
    expect(second).not.toBe(first)
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
    expect(fixture.emulator.stats().apiRequests.unauthorized).toBe(0)
  })

  it('warns about nothing when every scope is one BookingSync lists', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    const start = await fixture.keeper.authorize('acme-bs', { scopes: ['public', 'rentals_read'] })
    expect(start.warnings).toEqual([])
  })
})

describe('BookingSync client credentials', () => {
  it('connects with a public-scope token and renews it with the same grant when it expires', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    const result = await fixture.keeper.connect('acme-bs', { name: 'bulk', grant: 'client_credentials' })
    expect(result.kind === 'connected' && result.connection).toMatchObject({
      hasRefreshToken: false,
      scopes: ['public'],
    })
    const conn = fixture.keeper.connection('acme-bs/bulk')
    const first = await conn.accessToken()
    fixture.advance(7200)
    expect(await conn.accessToken()).not.toBe(first)
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBe(2)
  })
})

describe('BookingSync account pre-selection', () => {
  it('sends account_id on the authorization URL and keeps it with the connection', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    const start = await fixture.keeper.authorize('acme-bs', { accountId: '4242' })
    expect(new URL(start.url).searchParams.get('account_id')).toBe('4242')
    const connection = await start.complete({ code: (await answerConsent(start.url)).code })
    expect(connection.metadata.accountId).toBe('4242')
  })
})

describe('BookingSync connections authorized with a redirect URI of their own', () => {
  const LISTENER = 'http://127.0.0.1:9/callback'

  /** A store URL of its own on PostgreSQL or Redis (undefined: the fixture's), and how to drop it. */
  async function sharedStore(
    kind: 'sqlite' | 'memory' | 'postgres' | 'redis',
  ): Promise<{ url?: string; cleanup(): Promise<void> } | undefined> {
    if (kind === 'sqlite' || kind === 'memory') return { cleanup: async () => {} }
    return scratchStore(kind, 'bs')
  }

  /** The emulator's record of the grant: the redirect URI of its authorization and its refreshes. */
  async function grantsSeenBy(emulator: Fixture['emulator']) {
    const answer = await fetch(`${emulator.info.adminUrl}/families`)
    const { families } = (await answer.json()) as {
      families: Array<{ redirectUri: string | null; refreshCount: number; revoked: boolean }>
    }
    return families
  }

  it.each(['sqlite', 'memory', 'postgres', 'redis'] as const)(
    'repeats the connection’s own redirect_uri on every refresh, here and in another process on the same store (%s)',
    async (store) => {
      const shared = await sharedStore(store)
      if (!shared) return // PostgreSQL or Redis not running here (CI insists on both)
      try {
        fixture = await setup('bookingsync', {
          store: store === 'memory' ? 'memory' : 'sqlite',
          keeper: shared.url ? { store: shared.url } : {},
        })
        // The app's redirect URI is the out-of-band one; this connection used a loopback listener.
        await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
        const start = await fixture.keeper.authorize('acme-bs', { redirectUri: LISTENER })
        const consent = await answerConsent(start.url)
        expect(consent.location?.startsWith(LISTENER)).toBe(true)
        const connection = await start.complete(consent.location!)
        expect(connection.metadata.redirectUri).toBe(LISTENER)

        fixture.advance(7200)
        await fixture.keeper.connection('acme-bs/main').json('/rentals')
        expect((await fixture.keeper.connection('acme-bs/main').info()).state).toBe('active')

        const refreshes = store === 'memory' ? 1 : 2
        if (store !== 'memory') {
          const other = await fixture.reopen()
          fixture.advance(7200)
          await other.connection('acme-bs/main').json('/rentals')
          expect((await other.connection('acme-bs/main').info()).state).toBe('active')
        }

        expect(fixture.emulator.stats().tokenErrors.invalid_grant).toBeUndefined()
        expect(await grantsSeenBy(fixture.emulator)).toEqual([
          expect.objectContaining({ redirectUri: LISTENER, refreshCount: refreshes, revoked: false }),
        ])
      } finally {
        await fixture?.close()
        await shared.cleanup()
      }
    },
  )

  it('keeps the out-of-band redirect_uri for connections made with the app’s own', async () => {
    fixture = await setup('bookingsync')
    const connection = await connectBookingSync(fixture)
    expect(connection.metadata.redirectUri).toBe('urn:ietf:wg:oauth:2.0:oob')
    fixture.advance(7200)
    await fixture.keeper.connection('acme-bs/main').accessToken()
    expect(await grantsSeenBy(fixture.emulator)).toEqual([
      expect.objectContaining({ redirectUri: 'urn:ietf:wg:oauth:2.0:oob', refreshCount: 1 }),
    ])
  })
})
