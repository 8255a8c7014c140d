// BookingSync / Smily emulator, as docs/platforms/bookingsync.md describes the platform.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, OOB_REDIRECT_URI, startEmulator } from '../../src/emulators/index.js'
import { basic, bearer, consent, get, postForm } from './http.js'

let emulator: EmulatorHandle
beforeAll(async () => {
  emulator = await startEmulator('smily')
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const client = () => ({ client_id: emulator.info.clientId, client_secret: emulator.info.clientSecret })

async function codeFor(scope?: string): Promise<string> {
  const { code } = await consent(emulator.info.authorizeUrl!, {
    client_id: emulator.info.clientId,
    redirect_uri: OOB_REDIRECT_URI,
    ...(scope ? { scope } : {}),
  })
  if (!code) throw new Error('no code on the page')
  return code
}

async function connect(scope?: string) {
  const answer = await postForm(emulator.info.tokenUrl, {
    ...client(),
    code: await codeFor(scope),
    grant_type: 'authorization_code',
    redirect_uri: OOB_REDIRECT_URI,
  })
  expect(answer.status).toBe(200)
  return answer.body as { access_token: string; refresh_token: string; scope: string; expires_in: number }
}

const refresh = (refreshToken: string, redirectUri: string | null = OOB_REDIRECT_URI) =>
  postForm(emulator.info.tokenUrl, {
    ...client(),
    refresh_token: refreshToken,
    grant_type: 'refresh_token',
    ...(redirectUri === null ? {} : { redirect_uri: redirectUri }),
  })

describe('BookingSync emulator', () => {
  it('shows the code on the out-of-band page as <code id="authorization_code">', async () => {
    const result = await consent(emulator.info.authorizeUrl!, {
      client_id: emulator.info.clientId,
      redirect_uri: OOB_REDIRECT_URI,
    })
    expect(result.location).toContain('/oauth/authorize/native?code=')
    expect(result.page).toMatch(/<code id="authorization_code">[^<]+<\/code>/)
  })

  it('answers the code exchange exactly like the seed: lower-case bearer, 7200 s, refresh token, scope public', async () => {
    const answer = await postForm(emulator.info.tokenUrl, {
      ...client(),
      code: await codeFor(),
      grant_type: 'authorization_code',
      redirect_uri: OOB_REDIRECT_URI,
    })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(Object.keys(answer.body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ])
    expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: 7200, scope: 'public' })
    expect(answer.body.access_token).toMatch(/^[0-9a-f]{64}$/)
    expect(answer.body.refresh_token).toMatch(/^[0-9a-f]{64}$/)
  })

  it("accepts the seed's query-string form of the token request (Doorkeeper reads both)", async () => {
    const url = new URL(emulator.info.tokenUrl)
    for (const [k, v] of Object.entries({
      ...client(),
      code: await codeFor(),
      grant_type: 'authorization_code',
      redirect_uri: OOB_REDIRECT_URI,
    })) {
      url.searchParams.set(k, v)
    }
    const answer = await fetch(url, { method: 'POST' })
    expect(answer.status).toBe(200)
  })

  it('always includes public and grants the custom scopes asked for', async () => {
    const tokens = await connect('bookings_read rentals_read')
    expect(tokens.scope).toBe('public bookings_read rentals_read')
  })

  it('refuses an unknown scope with invalid_scope', async () => {
    const page = await fetch(
      `${emulator.info.authorizeUrl}?client_id=${emulator.info.clientId}&redirect_uri=http://127.0.0.1:9/cb&response_type=code&scope=bookings_read%20flying&state=s1`,
      { redirect: 'manual' },
    )
    const location = new URL(page.headers.get('location') ?? '')
    expect(location.searchParams.get('error')).toBe('invalid_scope')
    expect(location.searchParams.get('state')).toBe('s1')
    const cc = await postForm(emulator.info.tokenUrl, {
      ...client(),
      grant_type: 'client_credentials',
      scope: 'nope',
    })
    expect(cc.status).toBe(400)
    expect(cc.body.error).toBe('invalid_scope')
  })

  it('rotates the refresh token on every refresh', async () => {
    const first = await connect()
    const second = await refresh(first.refresh_token)
    expect(second.status).toBe(200)
    expect(second.body).toMatchObject({ token_type: 'bearer', expires_in: 7200, scope: 'public' })
    expect(second.body.refresh_token).not.toBe(first.refresh_token)
    const third = await refresh(String(second.body.refresh_token))
    expect(third.body.refresh_token).not.toBe(second.body.refresh_token)
    expect(emulator.stats().tokenRequests.refresh_token).toBe(2)
  })

  it('refuses a refresh whose redirect_uri differs from the first step with invalid_grant', async () => {
    const tokens = await connect()
    const wrong = await refresh(tokens.refresh_token, 'http://127.0.0.1:1234/callback')
    expect(wrong.status).toBe(400)
    expect(wrong.body.error).toBe('invalid_grant')
    const missing = await refresh(tokens.refresh_token, null)
    expect(missing.body.error).toBe('invalid_grant')
    // The refused attempts did not consume the token.
    expect((await refresh(tokens.refresh_token)).status).toBe(200)
  })

  it('answers API calls made with an expired access token with 401, and the refreshed token works', async () => {
    const tokens = await connect('rentals_read')
    const before = await get(`${emulator.info.apiUrl}/rentals`, bearer(tokens.access_token))
    expect(before.status).toBe(200)
    expect(Array.isArray(before.body.rentals)).toBe(true)
    emulator.advance(7200)
    const after = await get(`${emulator.info.apiUrl}/rentals`, bearer(tokens.access_token))
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"')
    const refreshed = await refresh(tokens.refresh_token)
    expect((await get(`${emulator.info.apiUrl}/rentals`, bearer(refreshed.body.access_token))).status).toBe(
      200,
    )
  })

  it('answers 401 to an unknown token and 403 when the token lacks a scope', async () => {
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer('nope'))).status).toBe(401)
    expect((await get(`${emulator.info.apiUrl}/accounts`)).status).toBe(401)
    const tokens = await connect()
    const accounts = await get(`${emulator.info.apiUrl}/accounts`, bearer(tokens.access_token))
    expect(accounts.body.accounts).toHaveLength(1)
    const bookings = await get(`${emulator.info.apiUrl}/bookings`, bearer(tokens.access_token))
    expect(bookings.status).toBe(403)
    expect(bookings.headers.get('www-authenticate')).toContain('insufficient_scope')
    const withScope = await connect('bookings_read')
    expect(
      (await get(`${emulator.info.apiUrl}/bookings`, bearer(withScope.access_token))).body.bookings,
    ).toHaveLength(1)
  })

  it('gives client credentials a public-scope bearer token without a refresh token', async () => {
    const answer = await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: 7200, scope: 'public' })
    expect(answer.body.refresh_token).toBeUndefined()
    const rentals = await get(`${emulator.info.apiUrl}/rentals`, bearer(answer.body.access_token))
    expect(rentals.status).toBe(200)
    const wider = await postForm(emulator.info.tokenUrl, {
      ...client(),
      grant_type: 'client_credentials',
      scope: 'bookings_write',
    })
    expect(wider.body.error).toBe('invalid_scope')
  })

  it('accepts HTTP Basic client authentication as well as client_secret_post', async () => {
    const answer = await postForm(
      emulator.info.tokenUrl,
      { grant_type: 'client_credentials' },
      basic(emulator.info.clientId, emulator.info.clientSecret),
    )
    expect(answer.status).toBe(200)
  })

  it('answers RFC 6749 errors: invalid_request, invalid_client, invalid_grant, unsupported_grant_type', async () => {
    const missing = await postForm(emulator.info.tokenUrl, client())
    expect([missing.status, missing.body.error]).toEqual([400, 'invalid_request'])
    const badSecret = await postForm(emulator.info.tokenUrl, {
      ...client(),
      client_secret: 'wrong',
      grant_type: 'client_credentials',
    })
    expect([badSecret.status, badSecret.body.error]).toEqual([401, 'invalid_client'])
    const badBasic = await postForm(
      emulator.info.tokenUrl,
      { grant_type: 'client_credentials' },
      basic(emulator.info.clientId, 'wrong'),
    )
    expect(badBasic.status).toBe(401)
    expect(badBasic.headers.get('www-authenticate')).toMatch(/^Basic/)
    const badCode = await postForm(emulator.info.tokenUrl, {
      ...client(),
      grant_type: 'authorization_code',
      code: 'nope',
      redirect_uri: OOB_REDIRECT_URI,
    })
    expect([badCode.status, badCode.body.error]).toEqual([400, 'invalid_grant'])
    const password = await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'password' })
    expect([password.status, password.body.error]).toEqual([400, 'unsupported_grant_type'])
    for (const answer of [missing, badSecret, badCode, password]) {
      expect(answer.headers.get('cache-control')).toBe('no-store')
      expect(typeof answer.body.error_description).toBe('string')
    }
  })

  it('uses an authorization code once; a second use revokes what the first issued', async () => {
    const code = await codeFor()
    const params = { ...client(), code, grant_type: 'authorization_code', redirect_uri: OOB_REDIRECT_URI }
    const first = await postForm(emulator.info.tokenUrl, params)
    expect(first.status).toBe(200)
    const second = await postForm(emulator.info.tokenUrl, params)
    expect(second.body.error).toBe('invalid_grant')
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(first.body.access_token))).status).toBe(401)
    expect(emulator.stats().codeReuseDetected).toBe(1)
  })

  it('expires authorization codes after 10 minutes', async () => {
    const code = await codeFor()
    emulator.advance(601)
    const answer = await postForm(emulator.info.tokenUrl, {
      ...client(),
      code,
      grant_type: 'authorization_code',
      redirect_uri: OOB_REDIRECT_URI,
    })
    expect(answer.body.error).toBe('invalid_grant')
    expect(answer.body.error_description).toMatch(/expired/)
  })

  it('offers the client no revocation endpoint: only the owner’s uninstall revokes an authorization', async () => {
    const tokens = await connect()
    expect(emulator.info.revokeUrl).toBeUndefined()
    const origin = new URL(emulator.info.tokenUrl).origin
    const revoke = await postForm(`${origin}/oauth/revoke`, { ...client(), token: tokens.refresh_token })
    expect(revoke.status).toBe(404)
    expect((await refresh(tokens.refresh_token)).status).toBe(200)
  })

  it('keeps a refresh token valid for as long as it is used, until the owner uninstalls the app', async () => {
    const tokens = await connect()
    emulator.advance(365 * 24 * 3600)
    const refreshed = await refresh(tokens.refresh_token)
    expect(refreshed.status).toBe(200)
    const uninstall = await fetch(`${emulator.info.adminUrl}/revoke-all`, { method: 'POST' })
    expect(await uninstall.json()).toEqual({ familiesRevoked: 1 })
    const after = await refresh(String(refreshed.body.refresh_token))
    expect(after.body.error).toBe('invalid_grant')
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(refreshed.body.access_token))).status).toBe(
      401,
    )
  })
})
