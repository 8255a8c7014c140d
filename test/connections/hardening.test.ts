// Faults a platform (or something pretending to be one) can throw at a connection: a token
// answer cut off half-way and lifetimes of 0 or 1e14 seconds (an API that never answers or
// answers too much: test/http/limits.test.ts).
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup, setupConnected } from '../support/keeper.js'

let fixture: Fixture
afterEach(async () => fixture?.close())

describe('a token answer cut off half-way', () => {
  it('fails with invalid_response and no byte of the answer in the error, lastError or info', async () => {
    fixture = await setupConnected()
    const old = await fixture.keeper.store.getConnection('app/main')
    fixture.emulator.configure({ truncateNextTokenResponses: 1 })
    const error = (await fixture.keeper
      .connection('app/main')
      .refresh()
      .then(
        () => new Error('refresh succeeded'),
        (caught: unknown) => caught,
      )) as Error & { code: string }
    expect(error).toMatchObject({ code: 'invalid_response' })
    const info = await fixture.keeper.connection('app/main').info()
    const texts = [error.message, JSON.stringify(info), JSON.stringify(await fixture.keeper.connections())]
    for (const text of texts) {
      expect(text).not.toContain('access_token')
      expect(text).not.toContain('{\\"')
      expect(text).not.toContain(old!.tokens!.accessToken!.slice(0, 12))
    }
    expect(info.lastError?.message).toContain('not a JSON object')
  })
})

describe('token lifetimes out of range', () => {
  function collectWarnings(): { messages: string[]; stop(): void } {
    const messages: string[] = []
    const listener = (warning: Error & { code?: string }) => {
      if (warning.code === 'INNKEEPER_TOKEN_LIFETIME') messages.push(warning.message)
    }
    process.on('warning', listener)
    return { messages, stop: () => process.off('warning', listener) }
  }

  it('expires_in 1e14 is cut to a year, with a warning; the token is listed and refreshed then', async () => {
    const warnings = collectWarnings()
    try {
      fixture = await setup('bookingsync', { emulator: { config: { expiresInAnswer: 1e14 } } })
      await fixture.keeper.apps.add('app', appFor(fixture.emulator, 'bookingsync'))
      const start = await fixture.keeper.authorize('app', { scopes: ['rentals_read'] })
      await start.complete({ code: (await answerConsent(start.url)).code })
      const [listed] = await fixture.keeper.connections()
      const expiresAt = listed!.accessTokenExpiresAt!
      expect(expiresAt).toBeLessThanOrEqual(fixture.now() + 366 * 86_400_000)
      expect(() => new Date(expiresAt).toISOString()).not.toThrow()
      expect(() => new Date(listed!.refreshDueAt!).toISOString()).not.toThrow()
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.messages.join('\n')).toContain('lives 100000000000000 s')
      const first = await fixture.keeper.connection('app/main').accessToken()
      expect(warnings.messages.join('\n')).not.toContain(first)

      fixture.emulator.configure({ expiresInAnswer: null })
      fixture.advance(366 * 86_400)
      expect(await fixture.keeper.connection('app/main').accessToken()).not.toBe(first)
      expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
    } finally {
      warnings.stop()
    }
  })

  it('expires_in 0 means "expires now": one connect and 20 calls make one token request, not 21', async () => {
    const warnings = collectWarnings()
    try {
      fixture = await setup('bookingsync', { emulator: { config: { expiresInAnswer: 0 } } })
      await fixture.keeper.apps.add('app', appFor(fixture.emulator, 'bookingsync'))
      const start = await fixture.keeper.authorize('app', { scopes: ['rentals_read'] })
      await start.complete({ code: (await answerConsent(start.url)).code })
      const conn = fixture.keeper.connection('app/main')
      for (let call = 0; call < 20; call += 1) await conn.json('/rentals')
      expect(fixture.emulator.stats().tokenRequests.total).toBe(1)
      const info = await conn.info()
      expect(info.accessTokenExpiresAt).toBeLessThanOrEqual(fixture.now())
      expect(info.refreshDueAt).toBeGreaterThan(fixture.now())
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.messages.join('\n')).toContain('expires at once')

      // A minute later it is renewed once, not before.
      fixture.advance(61)
      await conn.json('/rentals')
      expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
    } finally {
      warnings.stop()
    }
  })
})
