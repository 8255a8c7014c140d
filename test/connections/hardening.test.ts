// Faults a platform (or something pretending to be one) can throw at a connection: a token
// answer cut off half-way, lifetimes of 0 or 1e14 seconds, and an API that never answers.
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

let fixture: Fixture
afterEach(async () => fixture?.close())

async function connected(platform: 'bookingsync' | 'bookingexperts' = 'bookingsync'): Promise<Fixture> {
  fixture = await setup(platform)
  await fixture.keeper.apps.add('app', appFor(fixture.emulator, platform))
  const start = await fixture.keeper.authorize('app', {
    scopes: platform === 'bookingsync' ? ['rentals_read'] : undefined,
  })
  await start.complete({ code: (await answerConsent(start.url)).code })
  return fixture
}

describe('a token answer cut off half-way', () => {
  it('fails with invalid_response and no byte of the answer in the error, lastError or info', async () => {
    await connected()
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
