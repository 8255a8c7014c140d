// bookingtime emulator, as docs/platforms/bookingtime.md describes the platform.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwtPayload, type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { bearer, consent, get, postForm, postJson } from './http.js'

let emulator: EmulatorHandle
beforeAll(async () => {
  emulator = await startEmulator('bookingtime')
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** `clientSecret: null` omits the secret. */
async function refreshToken(
  clientId = emulator.info.clientId,
  clientSecret: string | null = emulator.info.clientSecret,
) {
  const answer = await postForm(emulator.info.tokenUrl, {
    grant_type: 'client_credentials',
    client_id: clientId,
    ...(clientSecret === null ? {} : { client_secret: clientSecret }),
  })
  expect(answer.status).toBe(200)
  return String(answer.body.refresh_token)
}

/** `organizationId: null` omits it. */
const exchange = (
  token: string,
  organizationId: string | null | undefined = emulator.info.organizationId,
  clientId = emulator.info.clientId,
) =>
  postForm(emulator.info.tokenUrl, {
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: token,
    ...(organizationId ? { organization_id: organizationId } : {}),
  })

describe('bookingtime emulator', () => {
  it("bookingtime's client credentials answer carries only a refresh token (a 30-day JWT)", async () => {
    const answer = await postForm(emulator.info.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: emulator.info.clientId,
      client_secret: emulator.info.clientSecret,
    })
    expect(Object.keys(answer.body).sort()).toEqual(['expires_in', 'refresh_token', 'token_type'])
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 2592000 })
    expect(answer.body.refresh_token).toMatch(JWT)
    const claims = decodeJwtPayload(String(answer.body.refresh_token))
    expect(claims.sub).toBe(emulator.info.clientId)
    expect(Number(claims.exp) - Number(claims.iat)).toBe(2592000)
    expect(claims.org).toBe(emulator.info.organizationId)
  })

  it('exchanges the refresh token and organization_id, without a secret, for a 5-minute access JWT with expires_in as a string', async () => {
    const answer = await exchange(await refreshToken())
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: '300' })
    expect(answer.body.refresh_token).toBeUndefined()
    const claims = decodeJwtPayload(String(answer.body.access_token))
    expect(claims).toMatchObject({ sub: emulator.info.clientId, org: emulator.info.organizationId })
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300)
  })

  it('refuses the exchange without organization_id or for an organization the app may not access', async () => {
    const token = await refreshToken()
    const missing = await exchange(token, null)
    expect([missing.status, missing.body.error]).toEqual([400, 'invalid_request'])
    const foreign = await exchange(token, 'f6000000000000000000000000000000')
    expect([foreign.status, foreign.body.error]).toEqual([400, 'invalid_grant'])
  })

  it('shows the organization and adds a customer with the access token, which expires after 5 minutes', async () => {
    const { body } = await exchange(await refreshToken())
    const base = `${emulator.info.apiUrl}/de/organization/${emulator.info.organizationId}`
    const show = await get(`${base}/show`, bearer(body.access_token))
    expect(show.status).toBe(200)
    expect(show.body).toMatchObject({
      class: 'ORGANIZATION',
      id: emulator.info.organizationId,
      name: 'Demo Organization',
    })
    const added = await postJson(
      `${base}/customer/add`,
      { firstName: 'John', lastName: 'Doe' },
      bearer(body.access_token),
    )
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({
      class: 'CUSTOMER_SHORT',
      firstName: 'John',
      lastName: 'Doe',
      organizationId: emulator.info.organizationId,
    })
    emulator.advance(300)
    const expired = await get(`${base}/show`, bearer(body.access_token))
    expect(expired.status).toBe(401)
    expect(expired.body.error).toBe('invalid_token')
  })

  it('refuses a refresh-token exchange that carries the client secret (the seed sends client_id, refresh_token and organization_id only)', async () => {
    const token = await refreshToken()
    const withSecret = await postForm(emulator.info.tokenUrl, {
      grant_type: 'refresh_token',
      client_id: emulator.info.clientId,
      client_secret: emulator.info.clientSecret,
      refresh_token: token,
      organization_id: emulator.info.organizationId!,
    })
    expect([withSecret.status, withSecret.body.error]).toEqual([400, 'invalid_request'])
    const basic = Buffer.from(`${emulator.info.clientId}:${emulator.info.clientSecret}`).toString('base64')
    const withBasic = await postForm(
      emulator.info.tokenUrl,
      { grant_type: 'refresh_token', refresh_token: token, organization_id: emulator.info.organizationId! },
      { authorization: `Basic ${basic}` },
    )
    expect([withBasic.status, withBasic.body.error]).toEqual([400, 'invalid_request'])
    expect((await exchange(token)).status).toBe(200)
  })

  it('does not accept the refresh token as an access token', async () => {
    const token = await refreshToken()
    const answer = await get(
      `${emulator.info.apiUrl}/de/organization/${emulator.info.organizationId}/show`,
      bearer(token),
    )
    expect(answer.status).toBe(401)
  })

  it('refuses a request without a token: "Unauthenticated requests are not allowed"', async () => {
    const base = `${emulator.info.apiUrl}/de/organization/${emulator.info.organizationId}`
    expect((await get(`${base}/show`)).status).toBe(401)
    expect((await postJson(`${base}/customer/add`, { firstName: 'John', lastName: 'Doe' })).status).toBe(401)
  })

  it('lets the Module API client authenticate with an empty or omitted secret', async () => {
    const omitted = await refreshToken(emulator.info.moduleClientId!, null)
    const empty = await refreshToken(emulator.info.moduleClientId!, '')
    expect(empty).toMatch(JWT)
    const access = await exchange(omitted, emulator.info.organizationId, emulator.info.moduleClientId!)
    const url = `${emulator.info.moduleApiUrl}/en/organization/${emulator.info.organizationId}/show`
    expect((await get(url, bearer(access.body.access_token))).status).toBe(200)
    // Module tokens are not App API tokens.
    const app = await get(
      `${emulator.info.apiUrl}/en/organization/${emulator.info.organizationId}/show`,
      bearer(access.body.access_token),
    )
    expect(app.status).toBe(403)
  })

  it('requires the app client secret on client credentials', async () => {
    const answer = await postForm(emulator.info.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: emulator.info.clientId,
    })
    expect([answer.status, answer.body.error]).toEqual([401, 'invalid_client'])
  })

  it('answers the authorization code flow with a refresh token only', async () => {
    const redirect = 'http://localhost:5555/cb'
    const { code } = await consent(emulator.info.authorizeUrl!, {
      client_id: emulator.info.clientId,
      redirect_uri: redirect,
      state: 'xyz',
    })
    const answer = await postForm(emulator.info.tokenUrl, {
      grant_type: 'authorization_code',
      client_id: emulator.info.clientId,
      client_secret: emulator.info.clientSecret,
      code: code!,
      redirect_uri: redirect,
    })
    expect(answer.body.access_token).toBeUndefined()
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 2592000 })
    expect((await exchange(String(answer.body.refresh_token))).status).toBe(200)
  })

  it('expires the refresh token after 30 days', async () => {
    const token = await refreshToken()
    emulator.advance(2592000)
    expect((await exchange(token)).body.error).toBe('invalid_grant')
  })

  it('puts the skewed clock into the JWT claims', async () => {
    emulator.configure({ clockOffsetSeconds: -3600 })
    const claims = decodeJwtPayload(await refreshToken())
    expect(Math.abs(Number(claims.iat) - (Date.now() / 1000 - 3600))).toBeLessThan(60)
  })
})
