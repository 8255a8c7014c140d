// The generic `oauth2` provider against a standard server (the Booking Experts emulator) with
// PKCE, and the commit order of a refresh: stored (with the rotated-out token) before handed out.
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

let fixture: Fixture
afterEach(async () => fixture?.close())

describe('a standard OAuth 2.0 provider, and the commit order', () => {
  it('sends a PKCE challenge and completes with its verifier', async () => {
    fixture = await setup('bookingexperts')
    await fixture.keeper.apps.add(
      'std',
      appFor(fixture.emulator, 'oauth2', { redirectUri: 'http://127.0.0.1:9/callback' }),
    )
    const start = await fixture.keeper.authorize('std')
    const url = new URL(start.url)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    const consent = await answerConsent(start.url)
    const connection = await start.complete(consent.location!)
    expect(connection.state).toBe('active')
    await expect(fixture.keeper.connection('std').refresh()).resolves.toMatchObject({ state: 'active' })
  })

  it('commits the new token set with the rotated-out refresh token before handing out the new access token', async () => {
    fixture = await setup('bookingsync')
    await fixture.keeper.apps.add('std', appFor(fixture.emulator, 'bookingsync'))
    const start = await fixture.keeper.authorize('std', { scopes: ['public'] })
    await start.complete({ code: (await answerConsent(start.url)).code })
    const before = await fixture.keeper.store.getConnection('std/main')
    const seenByListener: string[] = []
    fixture.keeper.on('refreshed', async () => {
      const stored = await fixture.keeper.store.getConnection('std/main')
      seenByListener.push(stored!.tokens!.accessToken!)
    })
    fixture.advance(7200)
    const token = await fixture.keeper.connection('std/main').accessToken()
    const after = await fixture.keeper.store.getConnection('std/main')
    expect(after!.tokens!.accessToken).toBe(token)
    expect(seenByListener).toEqual([token])
    expect(after!.previousRefreshToken).toBe(before!.tokens!.refreshToken)
    expect(after!.tokens!.refreshToken).not.toBe(before!.tokens!.refreshToken)
  })
})
