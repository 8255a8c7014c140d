// Booking Experts emulator, as docs/platforms/bookingexperts.md describes the platform.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { authorizeUrl, bearer, consent, get, postForm, postJson } from './http.js'

let emulator: EmulatorHandle
const CALLBACK = 'http://127.0.0.1:8765/booking_experts/oauth_callback'
const JSON_API = { accept: 'application/vnd.api+json', 'accept-language': 'en,nl' }

beforeAll(async () => {
  emulator = await startEmulator('bookingexperts', { organizationIds: ['2'] })
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const client = () => ({ client_id: emulator.info.clientId, client_secret: emulator.info.clientSecret })

async function install(scope?: string, tokenUrl = emulator.info.tokenUrl, organization?: string) {
  const { location, code } = await consent(emulator.info.authorizeUrl!, {
    client_id: emulator.info.clientId,
    redirect_uri: CALLBACK,
    ...(scope ? { scope } : {}),
    ...(organization ? { organization_id: organization } : {}),
  })
  expect(location.startsWith(CALLBACK)).toBe(true)
  const answer = await postForm(tokenUrl, {
    ...client(),
    code: code!,
    grant_type: 'authorization_code',
    redirect_uri: CALLBACK,
  })
  expect(answer.status).toBe(200)
  return answer
}

describe('Booking Experts emulator', () => {
  it('runs the app host and the API host as two servers', () => {
    expect(new URL(emulator.info.appUrl!).port).not.toBe(new URL(emulator.info.apiUrl).port)
    expect(emulator.info.authorizeUrl!.startsWith(emulator.info.appUrl!)).toBe(true)
  })

  it('redirects to the app with the code in the query string after install', async () => {
    const { location } = await consent(emulator.info.authorizeUrl!, {
      client_id: emulator.info.clientId,
      redirect_uri: CALLBACK,
    })
    const url = new URL(location)
    expect([...url.searchParams.keys()]).toEqual(['code'])
  })

  it('answers the code exchange with a one-week Bearer token, refresh token and scope', async () => {
    const answer = await install()
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 604800, scope: 'create' })
    expect(typeof answer.body.refresh_token).toBe('string')
  })

  it('also serves /oauth/token on the API host', async () => {
    const answer = await install(undefined, emulator.info.apiTokenUrl)
    expect(answer.body.token_type).toBe('Bearer')
  })

  it('answers a refresh with "expires": 3600 instead of expires_in, and a new refresh token', async () => {
    const installed = await install()
    const refreshed = await postForm(emulator.info.tokenUrl, {
      ...client(),
      grant_type: 'refresh_token',
      refresh_token: String(installed.body.refresh_token),
    })
    expect(refreshed.status).toBe(200)
    expect(Object.keys(refreshed.body).sort()).toEqual([
      'access_token',
      'expires',
      'refresh_token',
      'token_type',
    ])
    expect(refreshed.body).toMatchObject({ token_type: 'Bearer', expires: 3600 })
    expect(refreshed.body.refresh_token).not.toBe(installed.body.refresh_token)
  })

  it('returns the subscription as JSON:API with administrations and a return URL', async () => {
    const { body } = await install()
    const subscription = await get(`${emulator.info.apiUrl}/v3/subscription`, {
      ...JSON_API,
      ...bearer(body.access_token),
    })
    expect(subscription.status).toBe(200)
    expect(subscription.headers.get('content-type')).toMatch(/^application\/vnd\.api\+json/)
    const data = subscription.body.data as {
      id: string
      type: string
      attributes: { return_url: string }
      relationships: { administrations: { data: Array<{ id: string; type: string }> } }
    }
    expect(data.type).toBe('subscription')
    expect(data.id).toBeTruthy()
    expect(data.attributes.return_url.startsWith(emulator.info.appUrl!)).toBe(true)
    expect(data.relationships.administrations.data.map((a) => a.type)).toEqual([
      'administration',
      'administration',
    ])
    const administrations = await get(`${emulator.info.apiUrl}/v3/administrations`, {
      ...JSON_API,
      ...bearer(body.access_token),
    })
    expect((administrations.body.data as unknown[]).length).toBe(2)
  })

  it("answers an expired token with the seed's WWW-Authenticate header and JSON body", async () => {
    const { body } = await install()
    emulator.advance(604_800)
    const answer = await get(`${emulator.info.apiUrl}/v3/administrations`, {
      ...JSON_API,
      ...bearer(body.access_token),
    })
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token" error_description="The access token expired"',
    )
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
    expect(answer.body).toEqual({ error: 'invalid_token', error_description: 'The access token expired' })
  })

  it('refreshed tokens expire after 3600 s', async () => {
    const installed = await install()
    const refreshed = await postForm(emulator.info.tokenUrl, {
      ...client(),
      grant_type: 'refresh_token',
      refresh_token: String(installed.body.refresh_token),
    })
    emulator.advance(3599)
    expect(
      (await get(`${emulator.info.apiUrl}/v3/subscription`, bearer(refreshed.body.access_token))).status,
    ).toBe(200)
    emulator.advance(1)
    expect(
      (await get(`${emulator.info.apiUrl}/v3/subscription`, bearer(refreshed.body.access_token))).status,
    ).toBe(401)
  })

  it('answers 403 insufficient_scope where the token lacks a scope', async () => {
    const { body } = await install()
    const denied = await get(
      `${emulator.info.apiUrl}/v3/administrations/1001/reservations`,
      bearer(body.access_token),
    )
    expect(denied.status).toBe(403)
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(denied.body.error).toBe('insufficient_scope')
    const scoped = await install('reservations_read')
    const allowed = await get(
      `${emulator.info.apiUrl}/v3/administrations/1001/reservations`,
      bearer(scoped.body.access_token),
    )
    expect(allowed.status).toBe(200)
  })
})

describe('Booking Experts organizations and API keys', () => {
  const subscriptionOf = async (accessToken: unknown) =>
    (await get(`${emulator.info.apiUrl}/v3/subscription`, { ...JSON_API, ...bearer(accessToken) })).body
      .data as { id: string; relationships: { administrations: { data: Array<{ id: string }> } } }

  it('answers the same subscription when one organization installs twice, another for another organization', async () => {
    const first = await subscriptionOf((await install()).body.access_token)
    const again = await subscriptionOf((await install()).body.access_token)
    const other = await subscriptionOf((await install(undefined, undefined, '2')).body.access_token)
    expect(again.id).toBe(first.id)
    expect(other.id).not.toBe(first.id)
    expect(other.relationships.administrations.data.map((a) => a.id)).toEqual(['2001'])
  })

  it('accepts an API key in X-API-KEY, limited to the organization it is registered to', async () => {
    const key = { ...JSON_API, 'x-api-key': emulator.info.apiKey! }
    const own = await get(`${emulator.info.apiUrl}/v3/administrations`, key)
    expect(own.status).toBe(200)
    expect((own.body.data as Array<{ id: string }>).map((a) => a.id)).toEqual(['1001', '1002'])
    expect((await get(`${emulator.info.apiUrl}/v3/administrations/1001/reservations`, key)).status).toBe(200)
    expect((await get(`${emulator.info.apiUrl}/v3/administrations/2001`, key)).status).toBe(404)
    // An API key belongs to no installed app: it has no subscription.
    expect((await get(`${emulator.info.apiUrl}/v3/subscription`, key)).status).toBe(403)

    const registered = await postJson(`${emulator.info.adminUrl}/api-keys`, { organizationId: '2' })
    const second = { ...JSON_API, 'x-api-key': String(registered.body.apiKey) }
    const theirs = await get(`${emulator.info.apiUrl}/v3/administrations`, second)
    expect((theirs.body.data as Array<{ id: string }>).map((a) => a.id)).toEqual(['2001'])
  })

  it('refuses an API key its owner revoked, and only that one', async () => {
    const registered = await postJson(`${emulator.info.adminUrl}/api-keys`, {})
    const revoked = String(registered.body.apiKey)
    expect((await postJson(`${emulator.info.adminUrl}/api-keys/revoke`, { apiKey: revoked })).body).toEqual({
      revoked: true,
    })
    const refused = await get(`${emulator.info.apiUrl}/v3/administrations`, {
      ...JSON_API,
      'x-api-key': revoked,
    })
    expect(refused.status).toBe(401)
    expect(refused.body).toMatchObject({ errors: [{ detail: 'The API key is wrong or was revoked' }] })
    const demo = { ...JSON_API, 'x-api-key': emulator.info.apiKey! }
    expect((await get(`${emulator.info.apiUrl}/v3/administrations`, demo)).status).toBe(200)
  })

  it('answers a wrong API key with 401 and a JSON:API error document', async () => {
    const answer = await get(`${emulator.info.apiUrl}/v3/administrations`, {
      ...JSON_API,
      'x-api-key': 'not-a-key',
    })
    expect(answer.status).toBe(401)
    expect(answer.body).toMatchObject({ errors: [{ status: 401, title: 'Unauthorized error' }] })
  })

  it('refuses an install for an organization it does not have', async () => {
    const answer = await fetch(
      authorizeUrl(emulator.info.authorizeUrl!, {
        response_type: 'code',
        client_id: emulator.info.clientId,
        redirect_uri: CALLBACK,
        organization_id: '99',
      }),
      { redirect: 'manual' },
    )
    expect(answer.status).toBe(302)
    expect(new URL(answer.headers.get('location')!).searchParams.get('error')).toBe('invalid_request')
  })
})
