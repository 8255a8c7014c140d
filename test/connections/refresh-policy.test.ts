// The refresh policy per provider (`refresh.proactive`), as a user of the library sees it over the
// emulators on loopback, on real SQLite: the background
// refresher renews ahead of use only what must be, and a token asked for is renewed on use.
// One clock drives expiry; the worker runs round by round (nothing timed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BackgroundRefresher } from '../../src/connections/refresher.js'
import { loadProviderFiles } from '../../src/providers/files.js'
import { ProviderCatalogue } from '../../src/providers/registry.js'
import '../../src/providers/schema.js'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

const HOUR = 3600

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

/** A BookingSync connection a person approved out of band (2-hour tokens, rotating, keep-alive 24 h). */
async function connectBookingSync(f: Fixture): Promise<string> {
  await f.keeper.apps.add('bs', appFor(f.emulator, 'bookingsync'))
  const start = await f.keeper.authorize('bs', { scopes: ['rentals_read'] })
  await start.complete({ code: (await answerConsent(start.url)).code })
  return 'bs/main'
}

/** Runs one worker round per hour for `hours` hours; answers the hours (from 1) in which it refreshed. */
async function runHours(f: Fixture, worker: BackgroundRefresher, hours: number): Promise<number[]> {
  const refreshedIn: number[] = []
  for (let hour = 1; hour <= hours; hour++) {
    f.advance(HOUR)
    const before = worker.stats.refreshed
    await worker.runOnce()
    if (worker.stats.refreshed > before) refreshedIn.push(hour)
  }
  return refreshedIn
}

describe('refresh.proactive: on-use', () => {
  it('an idle BookyFlow connection is never refreshed by the worker, and gets a new token when asked for', async () => {
    fixture = await setup('bookyflow')
    const { keeper, emulator } = fixture
    await keeper.apps.add('bf', appFor(emulator, 'bookyflow'))
    await keeper.connect('bf', { scopes: ['read', 'write'] })
    const conn = keeper.connection('bf/main')
    const first = await conn.accessToken()
    expect((await conn.info()).refreshDueAt).toBeNull()

    const worker = new BackgroundRefresher(keeper, keeper.store, 'w')
    const requests = emulator.stats().tokenRequests.total ?? 0
    expect(await runHours(fixture, worker, 5)).toEqual([])
    expect(worker.stats.claimed).toBe(0)
    expect(emulator.stats().tokenRequests.total).toBe(requests)

    const renewed = await conn.accessToken()
    expect(renewed).not.toBe(first)
    expect(emulator.stats().tokenRequests.total).toBe(requests + 1)
    expect((await conn.fetch('/properties', { method: 'POST', json: { name: 'Sea view' } })).ok).toBe(true)
  })

  it('a rotating refresh token is still kept alive while idle: refreshed once a day, never for its 2-hour tokens', async () => {
    fixture = await setup('bookingsync', {
      keeper: { providers: [{ name: 'bookingsync', refresh: { proactive: 'on-use' } }] },
    })
    const id = await connectBookingSync(fixture)
    const worker = new BackgroundRefresher(fixture.keeper, fixture.keeper.store, 'w')
    const refreshedIn = await runHours(fixture, worker, 50)
    expect(refreshedIn).toEqual([24, 48])
    const info = await fixture.keeper.connection(id).info()
    // Its 2-hour token is past due: the next call renews it.
    expect(info.state).toBe('expiring')
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(2)
    // Still a live grant: the token asked for now (the last one is hours old) is renewed on use.
    expect((await fixture.keeper.connection(id).fetch('/rentals')).status).toBe(200)
  })
})

describe('refresh.proactive: when-used-within (BookingSync: 24 h)', () => {
  it('renews ahead of use for a day after the last use, then only keeps the grant alive; a use brings it back', async () => {
    fixture = await setup('bookingsync')
    const id = await connectBookingSync(fixture)
    const { keeper } = fixture
    await keeper.connection(id).accessToken()
    const worker = new BackgroundRefresher(keeper, keeper.store, 'w')

    const refreshedIn = await runHours(fixture, worker, 50)
    const ahead = refreshedIn.filter((hour) => hour <= 24)
    // Every 2-hour token renewed before it expired while the last use was within the day.
    expect(ahead.length).toBeGreaterThanOrEqual(11)
    // Then idle: nothing until the keep-alive, 24 hours after the last refresh.
    const last = ahead.at(-1)!
    expect(refreshedIn.filter((hour) => hour > last)).toEqual([last + 24])

    // Used again (its token, from the keep-alive, has expired: renewed on use), and the worker
    // renews ahead of use again.
    await keeper.connection(id).accessToken()
    expect(await runHours(fixture, worker, 4)).toEqual([2, 4])
  })

  it('a use in another process (a token API) brings the worker back, with one store write for many tokens', async () => {
    fixture = await setup('bookingsync')
    const id = await connectBookingSync(fixture)
    const api = await fixture.reopen()
    const worker = new BackgroundRefresher(fixture.keeper, fixture.keeper.store, 'w')
    // Renewed ahead for the day after the connect, then idle until the keep-alive at hour 48,
    // which leaves a fresh token.
    expect((await runHours(fixture, worker, 48)).slice(-2)).toEqual([24, 48])
    const before = (await fixture.keeper.store.getConnection(id))!.version
    for (let i = 0; i < 50; i++) await api.connection(id).accessToken()
    await api.close()
    const after = (await fixture.keeper.store.getConnection(id))!
    expect(after.version).toBe(before + 1)
    expect(after.lastUsedAt).toBeGreaterThanOrEqual(after.lastRefreshAt!)
    expect(await runHours(fixture, worker, 4)).toEqual([2, 4])
  })
})

describe('provider definition files: refresh.proactive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'innkeeper-policy-'))
  afterEach(() => rmSync(join(dir, 'p.json'), { force: true }))

  const refused = (refresh: Record<string, unknown>, name = 'bookyflow') => {
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ name, refresh }))
    try {
      loadProviderFiles(ProviderCatalogue.builtIn(), dir)
    } catch (error) {
      return (error as Error).message
    }
    return 'accepted'
  }

  it('refuses a bad value with the file and the field', () => {
    expect(refused({ proactive: 'sometimes' })).toMatch(/p\.json: refresh\.proactive: Invalid option/)
    expect(refused({ proactive: 'when-used-within' })).toMatch(
      /p\.json: refresh\.usedWithin: required when proactive is "when-used-within"/,
    )
    expect(refused({ proactive: 'when-used-within', usedWithin: 'soon' })).toMatch(
      /p\.json: refresh\.usedWithin: not a duration: write e\.g\. 24h/,
    )
    expect(refused({ proactiv: 'on-use' })).toMatch(
      /p\.json: refresh\.proactiv: not a field of a provider definition/,
    )
  })

  it('takes a correction of the policy, keeping the rest of the definition', () => {
    writeFileSync(
      join(dir, 'p.json'),
      JSON.stringify({ name: 'bookingsync', refresh: { proactive: 'always' } }),
    )
    const catalogue = ProviderCatalogue.builtIn()
    loadProviderFiles(catalogue, dir)
    expect(catalogue.get('bookingsync').refresh).toMatchObject({
      proactive: 'always',
      rotates: true,
      keepAliveSeconds: 86_400,
    })
    expect(refused({ proactive: 'on-use' }, 'bookingsync')).toBe('accepted')
  })
})
