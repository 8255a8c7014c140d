// The JSON API over real HTTP against the BookingSync emulator and a SQLite store: API keys,
// connection ids with a slash, the token route refreshing once (even for 50 callers at once),
// the proxy's refresh-and-retry on 401, and errors with the right status.
import { afterEach, describe, expect, it } from 'vitest'
import { revokeApiKey } from '../../src/server/api-keys.js'
import { appFor } from '../support/keeper.js'
import { connectBookingSync, json, type ServerFixture, startServer } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

describe('API keys', () => {
  it('answers 401 without a key, with a wrong key, and with a revoked key', async () => {
    f = await startServer('bookingsync')
    const missing = await f.api('/api/connections', { key: null })
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await json(missing)).error.code).toBe('unauthorized')

    const wrong = await f.api('/api/connections', { key: 'not-a-key' })
    expect(wrong.status).toBe(401)
    // Right id, wrong secret.
    const forged = await f.api('/api/connections', { key: `${f.apiKey.slice(0, 14)}${'A'.repeat(43)}` })
    expect(forged.status).toBe(401)

    expect((await f.api('/api/connections')).status).toBe(200)
    await revokeApiKey(f.keeper.store, f.apiKey.slice(3, 13))
    expect((await f.api('/api/connections')).status).toBe(401)
  })

  it('accepts keys from INNKEEPER_API_KEYS and stores only hashes of created keys', async () => {
    f = await startServer('bookingsync', { apiKeys: ['env-key-one', 'env-key-two'] })
    expect((await f.api('/api/connections', { key: 'env-key-two' })).status).toBe(200)
    const stored = await f.keeper.store.listDocuments('api_keys')
    expect(JSON.stringify(stored)).not.toContain(f.apiKey)
    expect(stored[0]?.value.sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it('rate limits API calls per client address, before checking the key', async () => {
    f = await startServer('bookingsync', { rateLimit: { apiPerMinute: 3 } })
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await f.api('/api/connections', { key: 'guess' })).status)
    expect(statuses).toEqual([401, 401, 401, 429])
    const limited = await f.api('/api/connections')
    expect(limited.status).toBe(429)
    expect((await json(limited)).error.code).toBe('rate_limited')
  })

  it('guards the proxy too', async () => {
    f = await startServer('bookingsync')
    expect((await f.api('/proxy/acme-bs/main/accounts', { key: null })).status).toBe(401)
  })
})

describe('connections', () => {
  it('lists and reads a connection by URL-encoded id and by app/name, never showing a token', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const list = await json(await f.api('/api/connections'))
    expect(list.connections.map((c: { id: string }) => c.id)).toEqual(['acme-bs/main'])
    const encoded = await f.api('/api/connections/acme-bs%2Fmain')
    expect(encoded.status).toBe(200)
    const byParts = await f.api('/api/connections/acme-bs/main')
    const body = await json(byParts)
    expect(body).toMatchObject({ id: 'acme-bs/main', state: 'active', hasRefreshToken: true })
    expect(JSON.stringify(body)).not.toMatch(/accessToken"|refreshToken"/)
  })

  it('answers 404 with a JSON error for an unknown connection', async () => {
    f = await startServer('bookingsync')
    const answer = await f.api('/api/connections/nobody%2Fmain/token', { method: 'POST' })
    expect(answer.status).toBe(404)
    expect((await json(answer)).error).toMatchObject({ code: 'unknown_connection' })
  })
})

describe('the token route', () => {
  it('hands out the stored token while it is fresh, without a token request', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const before = f.emulator.stats().tokenRequests.total ?? 0
    const answer = await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    // The security headers of every response are on the token API's too.
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'")
    const token = await json(answer)
    expect(token).toMatchObject({ tokenType: expect.stringMatching(/bearer/i) })
    expect(token.accessToken).toEqual(expect.any(String))
    expect(token.expiresAt).toBeGreaterThan(f.now())
    expect(f.emulator.stats().tokenRequests.total).toBe(before)
  })

  it('records every token handed out in the audit trail, and the refresh one caused, under the API key that asked', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    for (let i = 0; i < 3; i++) await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    f.advance(7200 + 1)
    await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    const entries = await f.keeper.audit.list({ connection: 'acme-bs/main' })
    const byKey = expect.objectContaining({ actor: `api-key:${f.apiKey.split('_')[1]}`, outcome: 'ok' })
    expect(entries.filter((entry) => entry.action === 'token.issued')).toEqual(Array(4).fill(byKey))
    expect(entries.filter((entry) => entry.action === 'token.refreshed')).toEqual([byKey])
  })

  it('says what a BookingSync token is: an access token for the Authorization header', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const token = await json(await f.api('/api/connections/acme-bs/main/token', { method: 'POST' }))
    expect(token.kind).toBe('access_token')
    expect(token.header).toEqual({ name: 'authorization', value: `Bearer ${token.accessToken}` })
  })

  it('hands out a Booking Experts API key as what it is, and proxies with it in X-API-KEY', async () => {
    f = await startServer('bookingexperts')
    await f.keeper.apps.add(
      'acme-be',
      appFor(f.emulator, 'bookingexperts', { redirectUri: `${f.baseUrl}/callback/acme-be` }),
    )
    const key = f.emulator.info.apiKey!
    await f.keeper.connect('acme-be', { name: 'key', apiKey: key })
    const answer = await f.api('/api/connections/acme-be/key/token', { method: 'POST' })
    expect(answer.status).toBe(200)
    expect(await json(answer)).toEqual({
      accessToken: key,
      tokenType: 'api_key',
      expiresAt: null,
      kind: 'api_key',
      header: { name: 'x-api-key', value: key },
    })
    const proxied = await f.api('/proxy/acme-be/key/v3/administrations')
    expect(proxied.status).toBe(200)
    expect((await json(proxied)).data).toHaveLength(2)
    const listed = await json(await f.api('/api/connections/acme-be/key'))
    expect(JSON.stringify(listed)).not.toContain(key)
    expect(f.emulator.stats().tokenRequests.total).toBe(0)
  })

  it('refreshes exactly once after the 2-hour token expired', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const first = await json(await f.api('/api/connections/acme-bs/main/token', { method: 'POST' }))
    f.advance(7200 + 1)
    const second = await json(await f.api('/api/connections/acme-bs/main/token', { method: 'POST' }))
    const third = await json(await f.api('/api/connections/acme-bs/main/token', { method: 'POST' }))
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(third.accessToken).toBe(second.accessToken)
    expect(second.expiresAt).toBeGreaterThan(f.now())
    expect(f.emulator.stats().tokenRequests.refresh_token).toBe(1)
  })

  it('serves 50 concurrent requests after expiry with one refresh', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    f.advance(7200 + 1)
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })),
    )
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200))
    const tokens = new Set(await Promise.all(answers.map(async (answer) => (await json(answer)).accessToken)))
    expect(tokens.size).toBe(1)
    expect(f.emulator.stats().tokenRequests.refresh_token).toBe(1)
    expect(f.emulator.stats().maxUsesOfOneRefreshToken).toBe(1)
  })

  it('answers 409 needs_reauth when the owner uninstalled the app', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    f.emulator.revokeAll()
    f.advance(7200 + 1)
    const answer = await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    expect(answer.status).toBe(409)
    expect((await json(answer)).error.code).toBe('needs_reauth')
  })

  it('answers 503 provider_unavailable when the platform keeps failing', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    f.emulator.configure({ failNextTokenRequests: 10 })
    const answer = await f.api('/api/connections/acme-bs%2Fmain/refresh', { method: 'POST' })
    expect(answer.status).toBe(503)
    expect((await json(answer)).error.code).toBe('provider_unavailable')
  })

  it('refreshes on demand', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const answer = await f.api('/api/connections/acme-bs/main/refresh', { method: 'POST' })
    expect(answer.status).toBe(200)
    expect((await json(answer)).state).toBe('active')
    expect(f.emulator.stats().tokenRequests.refresh_token).toBe(1)
  })
})

describe('the proxy', () => {
  it('forwards the request with the token, and refreshes and retries once when the platform says 401', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    // Only the platform's clock moves: Innkeeper still believes the token is fresh.
    f.emulator.advance(7200 + 1)
    const answer = await f.api('/proxy/acme-bs/main/rentals?include=photos', {
      headers: { 'x-request-id': 'r1' },
    })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toMatch(/json/)
    expect(answer.headers.get('set-cookie')).toBeNull()
    const body = await json(answer)
    expect(Array.isArray(body.rentals)).toBe(true)
    const stats = f.emulator.stats()
    expect(stats.apiRequests.unauthorized).toBe(1)
    expect(stats.tokenRequests.refresh_token).toBe(1)
  })

  it('passes the platform’s own error status through, marked as the platform’s', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const answer = await f.api('/proxy/acme-bs/main/no-such-resource')
    expect(answer.status).toBe(404)
    expect(answer.headers.get('innkeeper-proxied')).toBe('true')
    // Innkeeper's own 404 (no such connection) has no mark.
    const unknown = await f.api('/proxy/acme-bs/nobody/rentals')
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('innkeeper-proxied')).toBeNull()
    expect((await json(unknown)).error.code).toBe('unknown_connection')
  })

  it('answers 503 when the platform is down', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    f.emulator.configure({ failNextApiRequests: { count: 1, status: 503 } })
    const answer = await f.api('/proxy/acme-bs/main/rentals')
    expect(answer.status).toBe(503)
  })
})

describe('the proxy with BookyFlow', () => {
  it('forwards methods, JSON bodies and the content type, and streams the answers back', async () => {
    f = await startServer('bookyflow')
    await f.keeper.apps.add('bf', appFor(f.emulator, 'bookyflow', { scopes: ['read', 'write', 'delete'] }))
    await f.keeper.connect('bf', { channel: 'acme-channel' })
    const created = await f.api('/proxy/bf/main/cmf/properties', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Sea View', city: 'Hvar' }),
    })
    expect(created.status).toBe(201)
    const uid = (await json(created)).data.uid
    const updated = await f.api(`/proxy/bf/main/cmf/properties/${uid}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ city: 'Split' }),
    })
    expect((await json(updated)).data).toMatchObject({ name: 'Sea View', city: 'Split' })
    const list = await json(await f.api('/proxy/bf/main/cmf/properties'))
    expect(list.data).toHaveLength(1)
    expect((await f.api(`/proxy/bf/main/cmf/properties/${uid}`, { method: 'DELETE' })).status).toBe(204)
  })
})
