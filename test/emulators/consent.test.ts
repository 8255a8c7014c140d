// The consent page every authorization-code emulator serves at /oauth/authorize: a plain HTML
// form, validation before anything is shown, approve/deny, out-of-band, state and PKCE.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, OOB_REDIRECT_URI, startEmulator } from '../../src/emulators/index.js'
import { authorizeUrl, consent, postForm, readConsentForm } from './http.js'

let emulator: EmulatorHandle
const CALLBACK = 'http://127.0.0.1:49152/callback'

beforeAll(async () => {
  emulator = await startEmulator('bookingsync', {
    clients: [
      {
        id: 'partner-app',
        secret: 'partner-secret',
        redirectUris: ['https://partner.example/cb'],
        allowLoopbackRedirects: false,
      },
    ],
  })
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const client = () => ({ client_id: emulator.info.clientId, client_secret: emulator.info.clientSecret })
const open = (params: Record<string, string>) =>
  fetch(authorizeUrl(emulator.info.authorizeUrl!, { response_type: 'code', ...params }), {
    redirect: 'manual',
  })

describe('consent page', () => {
  it('is a plain HTML form with Approve and Deny and the request in hidden fields, no JavaScript', async () => {
    const page = await open({
      client_id: emulator.info.clientId,
      redirect_uri: OOB_REDIRECT_URI,
      scope: 'rentals_read',
      state: 'a<b',
    })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).not.toMatch(/<script/i)
    const form = readConsentForm(html)
    expect(form.buttons).toEqual(['approve', 'deny'])
    expect(form.fields).toMatchObject({
      client_id: emulator.info.clientId,
      redirect_uri: OOB_REDIRECT_URI,
      scope: 'rentals_read',
      state: 'a<b',
    })
  })

  it('refuses to be framed (X-Frame-Options: DENY), as BookingSync does, and carries account_id through the form', async () => {
    const page = await open({ client_id: emulator.info.clientId, redirect_uri: CALLBACK, account_id: '42' })
    expect(page.status).toBe(200)
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(readConsentForm(await page.text()).fields).toMatchObject({ account_id: '42' })
  })

  it('redirects to a registered loopback URI with code and state on approval', async () => {
    const { location, code } = await consent(emulator.info.authorizeUrl!, {
      client_id: emulator.info.clientId,
      redirect_uri: CALLBACK,
      state: 'st4te',
    })
    const url = new URL(location)
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK)
    expect(url.searchParams.get('state')).toBe('st4te')
    expect(code).toBeTruthy()
  })

  it('redirects with error=access_denied and the state when the person denies', async () => {
    const { location } = await consent(
      emulator.info.authorizeUrl!,
      { client_id: emulator.info.clientId, redirect_uri: CALLBACK, state: 'no' },
      'deny',
    )
    const url = new URL(location)
    expect(url.searchParams.get('error')).toBe('access_denied')
    expect(url.searchParams.get('state')).toBe('no')
    expect(url.searchParams.get('code')).toBeNull()
  })

  it('shows access_denied on a page for the out-of-band URI', async () => {
    const result = await consent(
      emulator.info.authorizeUrl!,
      { client_id: emulator.info.clientId, redirect_uri: OOB_REDIRECT_URI },
      'deny',
    )
    expect(result.page).toContain('access_denied')
  })

  it('shows an error page, never a redirect, for an unknown client or an unregistered redirect URI', async () => {
    const unknownClient = await open({ client_id: 'nobody', redirect_uri: CALLBACK })
    expect(unknownClient.status).toBe(400)
    expect(unknownClient.headers.get('location')).toBeNull()
    const unregistered = await open({
      client_id: emulator.info.clientId,
      redirect_uri: 'https://evil.example/cb',
    })
    expect(unregistered.status).toBe(400)
    expect(unregistered.headers.get('location')).toBeNull()
    const notLoopback = await open({ client_id: 'partner-app', redirect_uri: CALLBACK })
    expect(notLoopback.status).toBe(400)
    const missing = await open({ client_id: emulator.info.clientId })
    expect(missing.status).toBe(400)
    // A forged POST is validated the same way.
    const forged = await postForm(emulator.info.authorizeUrl!, {
      client_id: emulator.info.clientId,
      redirect_uri: 'https://evil.example/cb',
      response_type: 'code',
      decision: 'approve',
    })
    expect(forged.status).toBe(400)
  })

  it('accepts registered clients and extra redirect URIs configured per test', async () => {
    const partner = await open({ client_id: 'partner-app', redirect_uri: 'https://partner.example/cb' })
    expect(partner.status).toBe(200)
    emulator.configure({ extraRedirectUris: ['https://app.example/oauth/callback'] })
    expect(
      (await open({ client_id: emulator.info.clientId, redirect_uri: 'https://app.example/oauth/callback' }))
        .status,
    ).toBe(200)
  })

  it('redirects unsupported_response_type back to a valid redirect URI', async () => {
    const page = await open({
      client_id: emulator.info.clientId,
      redirect_uri: CALLBACK,
      response_type: 'token',
      state: 's',
    })
    const url = new URL(page.headers.get('location') ?? '')
    expect(url.searchParams.get('error')).toBe('unsupported_response_type')
  })

  it('approves at once when autoApprove is on', async () => {
    emulator.configure({ autoApprove: true })
    const page = await open({ client_id: emulator.info.clientId, redirect_uri: CALLBACK, state: 'auto' })
    expect(page.status).toBe(302)
    expect(new URL(page.headers.get('location') ?? '').searchParams.get('state')).toBe('auto')
  })

  it('honours PKCE S256: the right verifier works, a wrong or missing one is invalid_grant', async () => {
    const verifier = 'v'.repeat(43)
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const exchange = async (codeVerifier?: string) => {
      const { code } = await consent(emulator.info.authorizeUrl!, {
        client_id: emulator.info.clientId,
        redirect_uri: CALLBACK,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })
      return postForm(emulator.info.tokenUrl, {
        ...client(),
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: CALLBACK,
        ...(codeVerifier ? { code_verifier: codeVerifier } : {}),
      })
    }
    expect((await exchange(verifier)).status).toBe(200)
    expect((await exchange('w'.repeat(43))).body.error).toBe('invalid_grant')
    expect((await exchange()).body.error).toBe('invalid_grant')
  })

  it('refuses a code exchange whose redirect_uri differs from the authorization request', async () => {
    const { code } = await consent(emulator.info.authorizeUrl!, {
      client_id: emulator.info.clientId,
      redirect_uri: CALLBACK,
    })
    const answer = await postForm(emulator.info.tokenUrl, {
      ...client(),
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: OOB_REDIRECT_URI,
    })
    expect(answer.body.error).toBe('invalid_grant')
  })
})
