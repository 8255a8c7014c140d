// A standard OAuth client library, oauth4webapi, completes BookingSync's authorization code and
// refresh flows against the emulator: the emulator is standard where the platform is.
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { readConsentForm } from './http.js'

let emulator: EmulatorHandle
beforeAll(async () => {
  emulator = await startEmulator('bookingsync')
})
afterAll(() => emulator.close())

describe('oauth4webapi against the BookingSync emulator', () => {
  it('completes the authorization code flow (PKCE, state) and two refreshes', async () => {
    const { info } = emulator
    const as: oauth.AuthorizationServer = {
      issuer: new URL(info.tokenUrl).origin,
      authorization_endpoint: info.authorizeUrl!,
      token_endpoint: info.tokenUrl,
    }
    const client: oauth.Client = { client_id: info.clientId }
    const clientAuth = oauth.ClientSecretPost(info.clientSecret)
    const insecure = { [oauth.allowInsecureRequests]: true }
    const redirectUri = 'http://127.0.0.1:53682/callback'
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()

    const authorization = new URL(as.authorization_endpoint!)
    authorization.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'bookings_read rentals_read',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString()

    // The "browser": read the consent form and submit Approve.
    const form = readConsentForm(await (await fetch(authorization)).text())
    const approved = await fetch(new URL(form.action, authorization), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, decision: 'approve' }),
      redirect: 'manual',
    })
    const callback = new URL(approved.headers.get('location') ?? '')

    const params = oauth.validateAuthResponse(as, client, callback, state)
    const codeResponse = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      redirectUri,
      verifier,
      insecure,
    )
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, codeResponse)
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.expires_in).toBe(7200)
    expect(tokens.scope).toBe('public bookings_read rentals_read')

    const rentals = await oauth.protectedResourceRequest(
      tokens.access_token,
      'GET',
      new URL(`${info.apiUrl}/rentals`),
      undefined,
      undefined,
      insecure,
    )
    expect(rentals.status).toBe(200)

    // BookingSync wants the first step's redirect_uri on refresh.
    const refreshOptions = { ...insecure, additionalParameters: { redirect_uri: redirectUri } }
    const first = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, refreshOptions),
    )
    expect(first.refresh_token).not.toBe(tokens.refresh_token)
    const second = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, first.refresh_token!, refreshOptions),
    )
    expect(second.access_token).not.toBe(first.access_token)

    // A refused refresh surfaces as the library's standard error.
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, refreshOptions),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' })

    // Client Secret Basic works the same way.
    const basic = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(info.clientSecret),
      new URLSearchParams(),
      insecure,
    )
    expect((await oauth.processClientCredentialsResponse(as, client, basic)).scope).toBe('public')
  })
})
