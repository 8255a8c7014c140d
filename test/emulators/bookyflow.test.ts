// BookyFlow emulator, as docs/platforms/bookyflow.md describes the platform.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { bearer, get, postForm, postJson } from './http.js'

let emulator: EmulatorHandle
beforeAll(async () => {
  emulator = await startEmulator('bookyflow')
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const api = () => `${emulator.info.baseUrl}/bookyflow/api`

async function token(scope = 'read write') {
  const answer = await postForm(`${emulator.info.baseUrl}/bookyflow/api/oauth/token`, {
    grant_type: 'client_credentials',
    client_id: emulator.info.clientId,
    client_secret: emulator.info.clientSecret,
    scope,
  })
  expect(answer.status).toBe(200)
  return String(answer.body.access_token)
}

const channelHeaders = (accessToken: string, channel: string) => ({
  ...bearer(accessToken),
  'X-BOOKYFLOW-channel-name': channel,
})

describe('BookyFlow emulator', () => {
  it('issues a 1-hour Bearer token for client credentials with scopes, and no refresh token', async () => {
    const answer = await postForm(emulator.info.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: emulator.info.clientId,
      client_secret: emulator.info.clientSecret,
      scope: 'read write',
    })
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 })
    expect(answer.body.refresh_token).toBeUndefined()
    expect(String(answer.body.access_token).split('.')).toHaveLength(3)
  })

  it('refuses a token request without scope with invalid_scope', async () => {
    const answer = await postForm(emulator.info.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: emulator.info.clientId,
      client_secret: emulator.info.clientSecret,
    })
    expect([answer.status, answer.body.error]).toEqual([400, 'invalid_scope'])
  })

  it('grants the scopes its API plugins define (extraScopes) and refuses unknown ones with invalid_scope', async () => {
    const ask = (scope: string) =>
      postForm(emulator.info.tokenUrl, {
        grant_type: 'client_credentials',
        client_id: emulator.info.clientId,
        client_secret: emulator.info.clientSecret,
        scope,
      })
    expect((await ask('read channels_write')).body.error).toBe('invalid_scope')
    emulator.configure({ extraScopes: ['channels_write'] })
    const granted = await ask('read channels_write')
    expect(granted.status).toBe(200)
    const refused = await ask('read everything')
    expect([refused.status, refused.body.error]).toEqual([400, 'invalid_scope'])
  })

  it('supports only client credentials', async () => {
    const answer = await postForm(emulator.info.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: emulator.info.clientId,
      client_secret: emulator.info.clientSecret,
    })
    expect(answer.body.error).toBe('unsupported_grant_type')
  })

  it("answers an expired token with the seed's 401 body", async () => {
    const accessToken = await token()
    expect((await get(`${api()}/properties`, bearer(accessToken))).status).toBe(200)
    emulator.advance(3600)
    const answer = await get(`${api()}/properties`, bearer(accessToken))
    expect(answer.status).toBe(401)
    expect(answer.body).toEqual({ error: 'unauthorized', error_description: 'Invalid or expired token' })
  })

  it("answers a missing scope with the seed's 403 body", async () => {
    const readOnly = await token('read')
    const answer = await postJson(`${api()}/properties`, { name: 'Villa' }, bearer(readOnly))
    expect(answer.status).toBe(403)
    expect(answer.body).toEqual({ error: 'forbidden', error_description: 'Insufficient scope' })
  })

  it('serves auth-free endpoints without a token', async () => {
    expect((await get(`${api()}/status`)).body.status).toBe('ok')
    expect(((await get(`${api()}/countries`)).body.data as unknown[]).length).toBeGreaterThan(0)
  })

  it('requires an announced channel in X-BOOKYFLOW-channel-name on channel-management routes', async () => {
    const accessToken = await token()
    const missing = await get(`${api()}/cmf/properties`, bearer(accessToken))
    expect(missing.status).toBe(400)
    const unknown = await get(`${api()}/cmf/properties`, channelHeaders(accessToken, 'never-announced'))
    expect(unknown.status).toBe(403)
    const announced = await postJson(
      `${api()}/cmf/announce`,
      { channel_name: 'innkeeper' },
      bearer(accessToken),
    )
    expect(announced.status).toBe(201)
    expect((await get(`${api()}/cmf/properties`, channelHeaders(accessToken, 'innkeeper'))).status).toBe(200)
    expect((await postJson(`${api()}/cmf/announce`, {}, bearer(accessToken))).status).toBe(400)
  })

  it('ties a channel to the token that announced it when channelsPerToken is on', async () => {
    emulator.configure({ channelsPerToken: true })
    const first = await token()
    await postJson(`${api()}/cmf/announce`, { channel_name: 'innkeeper' }, bearer(first))
    expect((await get(`${api()}/cmf/properties`, channelHeaders(first, 'innkeeper'))).status).toBe(200)
    const next = await token()
    expect((await get(`${api()}/cmf/properties`, channelHeaders(next, 'innkeeper'))).status).toBe(403)
    await postJson(`${api()}/cmf/announce`, { channel_name: 'innkeeper' }, bearer(next))
    expect((await get(`${api()}/cmf/properties`, channelHeaders(next, 'innkeeper'))).status).toBe(200)
  })

  it('shows a channel only the properties it created, by their real UID', async () => {
    const accessToken = await token('read write delete')
    for (const channel of ['alpha', 'beta'])
      await postJson(`${api()}/cmf/announce`, { channel_name: channel }, bearer(accessToken))
    const created = await postJson(
      `${api()}/properties`,
      { name: 'Villa Alpha' },
      channelHeaders(accessToken, 'alpha'),
    )
    expect(created.status).toBe(201)
    const uid = (created.body.data as { uid: string }).uid
    const alpha = await get(`${api()}/properties`, channelHeaders(accessToken, 'alpha'))
    expect((alpha.body.data as Array<{ uid: string }>).map((p) => p.uid)).toEqual([uid])
    const beta = await get(`${api()}/properties`, channelHeaders(accessToken, 'beta'))
    expect(beta.body.data).toEqual([])
    expect((await get(`${api()}/properties/${uid}`, channelHeaders(accessToken, 'alpha'))).status).toBe(200)
    expect((await get(`${api()}/properties/${uid}`, channelHeaders(accessToken, 'beta'))).status).toBe(404)
    expect((await get(`${api()}/properties/@property_id`, channelHeaders(accessToken, 'alpha'))).status).toBe(
      404,
    )
  })

  it('validates booking dates as YYYY-MM-DD', async () => {
    const accessToken = await token()
    const created = await postJson(`${api()}/properties`, { name: 'Cottage' }, bearer(accessToken))
    const uid = (created.body.data as { uid: string }).uid
    const bad = await postJson(
      `${api()}/properties/${uid}/bookings`,
      { arrival: '17-11-2024', departure: '2024-11-20' },
      bearer(accessToken),
    )
    expect([bad.status, bad.body.error]).toEqual([422, 'invalid_date'])
    const impossible = await postJson(
      `${api()}/properties/${uid}/bookings`,
      { arrival: '2024-02-30', departure: '2024-03-02' },
      bearer(accessToken),
    )
    expect(impossible.status).toBe(422)
    const good = await postJson(
      `${api()}/properties/${uid}/bookings`,
      { arrival: '2024-11-17', departure: '2024-11-20', guest_name: 'Ada' },
      bearer(accessToken),
    )
    expect(good.status).toBe(201)
  })
})
