// BookyFlow through the library: a self-hosted base URL, client credentials with required
// scopes, the channel announce and its header, `@variable` placeholders, and no refresh token.
import { afterEach, describe, expect, it } from 'vitest'
import { decodeJwtPayload } from '../../src/emulators/index.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

let fixture: Fixture
afterEach(async () => fixture?.close())

async function connect(f: Fixture, channel = 'my-channel') {
  await f.keeper.apps.add('acme-bf', appFor(f.emulator, 'bookyflow'))
  return f.keeper.connect('acme-bf', { channel, scopes: ['read', 'write'] })
}

describe('BookyFlow through the library', () => {
  it('announces the channel after connecting and sends its header on channel-management calls', async () => {
    fixture = await setup('bookyflow')
    const result = await connect(fixture)
    expect(result.kind === 'connected' && result.connection.metadata.channel).toBe('my-channel')
    const conn = fixture.keeper.connection('acme-bf')
    const created = await conn.json<{ uid?: string; data?: { uid: string } }>('/properties', {
      method: 'POST',
      json: { name: 'Sea view apartment' },
    })
    const uid = created.uid ?? created.data?.uid
    expect(uid).toBeTruthy()
    const fetched = await conn.fetch('/properties/@property_id', { params: { property_id: uid! } })
    expect(fetched.status).toBe(200)
  })

  it('announces the channel again with every new access token, where the platform ties channels to tokens', async () => {
    fixture = await setup('bookyflow', { emulator: { config: { channelsPerToken: true } } })
    await connect(fixture)
    const conn = fixture.keeper.connection('acme-bf')
    await conn.json('/cmf/properties', { method: 'POST', json: { name: 'Sea view apartment' } })
    const before = await conn.accessToken()
    fixture.advance(3600)
    const listed = await conn.json<{ data: Array<{ name: string }> }>('/cmf/properties')
    expect(await conn.accessToken()).not.toBe(before)
    expect(listed.data.map((property) => property.name)).toEqual(['Sea view apartment'])
    expect((await fixture.keeper.connections())[0]?.metadata.channel).toBe('my-channel')
  })

  it('reaches the auth-free endpoints with only the app, before any connection exists', async () => {
    fixture = await setup('bookyflow')
    await fixture.keeper.apps.add('acme-bf', appFor(fixture.emulator, 'bookyflow'))
    const status = await fixture.keeper.app('acme-bf').json<{ status: string }>('/status')
    expect(status.status).toBe('ok')
    const countries = await fixture.keeper.app('acme-bf').fetch('/countries')
    expect(countries.status).toBe(200)
    expect(fixture.emulator.stats().tokenRequests.total).toBe(0)
    expect(await fixture.keeper.connections()).toEqual([])
    // An endpoint that needs a token answers the documented 401, named as BookyFlow's refusal.
    await expect(fixture.keeper.app('acme-bf').json('/properties')).rejects.toMatchObject({ status: 401 })
  })

  it('gets a new client-credentials token when the hour is up, since there is no refresh token', async () => {
    fixture = await setup('bookyflow')
    await connect(fixture)
    const conn = fixture.keeper.connection('acme-bf')
    const first = await conn.accessToken()
    fixture.advance(3600)
    expect(await conn.accessToken()).not.toBe(first)
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBe(2)
  })

  it("answers BookyFlow's 401 for an expired token as the seed says: a new client-credentials token, and the call again", async () => {
    fixture = await setup('bookyflow')
    await connect(fixture)
    const conn = fixture.keeper.connection('acme-bf')
    const first = await conn.accessToken()
    // Only the platform's clock moves: our clock still thinks the token is fresh, so the 401 drives the renewal.
    fixture.emulator.advance(3600)
    const listed = await conn.json<{ data: unknown[] }>('/properties')
    expect(Array.isArray(listed.data)).toBe(true)
    expect(fixture.emulator.stats().apiRequests.unauthorized).toBe(1)
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBe(2)
    expect(await conn.accessToken()).not.toBe(first)
  })

  it('asks for a scope an API plugin defines in its scopes.json, beyond read/write/delete', async () => {
    fixture = await setup('bookyflow', { emulator: { config: { extraScopes: ['channels_write'] } } })
    await fixture.keeper.apps.add('acme-bf', appFor(fixture.emulator, 'bookyflow'))
    const result = await fixture.keeper.connect('acme-bf', { scopes: ['read', 'channels_write'] })
    expect(result.kind === 'connected' && result.connection.scopes).toEqual(['read', 'channels_write'])
    const claims = decodeJwtPayload(await fixture.keeper.connection('acme-bf').accessToken())
    expect(claims.scope).toBe('read channels_write')
  })

  it('asks for read alone when the app names no scope: "Request only the scopes your application needs"', async () => {
    fixture = await setup('bookyflow')
    await fixture.keeper.apps.add('acme-bf', appFor(fixture.emulator, 'bookyflow'))
    const result = await fixture.keeper.connect('acme-bf')
    expect(result.kind === 'connected' && result.connection.scopes).toEqual(['read'])
    const claims = decodeJwtPayload(await fixture.keeper.connection('acme-bf').accessToken())
    expect(claims.scope).toBe('read')
  })

  it('keeps the connection when the app is added again with a rotated secret: "Periodically rotate your API credentials"', async () => {
    fixture = await setup('bookyflow')
    await connect(fixture)
    const { adminUrl, clientId, clientSecret, tokenUrl } = fixture.emulator.info
    const rotated = await fetch(`${adminUrl}/clients/${clientId}/secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: 'rotated-secret-0123456789' }),
    })
    expect(rotated.status).toBe(200)
    const withOld = await fetch(tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'read',
      }),
    })
    expect(withOld.status).toBe(401)
    await fixture.keeper.apps.add(
      'acme-bf',
      appFor(fixture.emulator, 'bookyflow', { clientSecret: 'rotated-secret-0123456789' }),
    )
    fixture.advance(3600)
    const conn = fixture.keeper.connection('acme-bf')
    await conn.json('/cmf/properties')
    expect((await conn.info()).state).toBe('active')
    // The connect, the refused request with the old secret, and the renewal with the new one.
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBe(3)
    expect(fixture.emulator.stats().tokenErrors).toEqual({ invalid_client: 1 })
  })

  it('leaves an unknown scope to BookyFlow, and reports its refusal', async () => {
    fixture = await setup('bookyflow')
    await fixture.keeper.apps.add('acme-bf', appFor(fixture.emulator, 'bookyflow'))
    await expect(fixture.keeper.connect('acme-bf', { scopes: ['read', 'everything'] })).rejects.toMatchObject(
      {
        code: 'invalid_scope',
      },
    )
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBe(1)
  })

  it('refuses a malformed scope before sending anything', async () => {
    fixture = await setup('bookyflow')
    await fixture.keeper.apps.add('acme-bf', appFor(fixture.emulator, 'bookyflow'))
    await expect(fixture.keeper.connect('acme-bf', { scopes: ['read "write"'] })).rejects.toThrow(
      /is not a valid scope/,
    )
    expect(fixture.emulator.stats().tokenRequests.client_credentials ?? 0).toBe(0)
  })

  it('names the missing scope when BookyFlow answers 403 insufficient scope', async () => {
    fixture = await setup('bookyflow')
    await fixture.keeper.apps.add('acme-bf', appFor(fixture.emulator, 'bookyflow'))
    await fixture.keeper.connect('acme-bf', { scopes: ['read'] })
    await expect(
      fixture.keeper.connection('acme-bf').fetch('/properties', { method: 'POST', json: { name: 'x' } }),
    ).rejects.toMatchObject({ code: 'insufficient_scope' })
  })
})
