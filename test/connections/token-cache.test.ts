// The token cache stays bounded (issue 15, `scale.memory.1w`): the background refresher keeps
// no record of the connections it refreshed for nobody in this process, and however many
// connections a process asks tokens of, it holds at most `cachedConnections` records. Counts,
// not bytes: a count is what a user sets and what makes memory flat.
import { afterEach, expect, it } from 'vitest'
import type { Innkeeper } from '../../src/index.js'
import type { ConnectionRecord } from '../../src/stores/store.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

const CONNECTIONS = 300

let f: Fixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

/** One real connection, then CONNECTIONS copies of it (the emulator does not rotate refresh tokens). */
async function manyConnections(keeper: Innkeeper, fixture: Fixture, dueAt: number): Promise<string[]> {
  await keeper.apps.add('bs', appFor(fixture.emulator, 'bookingsync'))
  const start = await keeper.authorize('bs', { name: 'template', scopes: ['rentals_read'] })
  const url = new URL(start.url)
  const { code } = fixture.emulator.approve({
    scope: url.searchParams.get('scope') ?? undefined,
    state: start.state,
    redirectUri: start.redirectUri,
  })
  const info = await start.complete({ code, state: start.state })
  const template = (await keeper.store.getConnection(info.id)) as ConnectionRecord
  const ids: string[] = []
  for (let i = 0; i < CONNECTIONS; i++) {
    const name = `c${i}`
    const id = `bs/${name}`
    await keeper.store.saveConnection({ ...template, id, name, refreshDueAt: dueAt, version: 0 }, 0)
    ids.push(id)
  }
  return ids
}

it('the background refresher refreshes many connections without caching them', async () => {
  f = await setup('bookingsync', {
    emulator: { config: { rotateRefreshTokens: false, reuseDetection: false } },
  })
  const ids = await manyConnections(f.keeper, f, f.now() - 1_000)
  // The worker process: a second Innkeeper on the same store that no caller asks tokens of.
  const worker = await f.reopen({ cachedConnections: 50 })
  const refresher = worker.startRefresher({ batchSize: 40, idleMs: 20 })
  const deadline = Date.now() + 120_000
  while (refresher.stats.claimed < ids.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await refresher.stop()
  expect(refresher.stats.refreshed).toBe(ids.length)
  expect(refresher.stats.failed).toBe(0)
  expect(worker.cachedConnectionRecords).toBe(0)
  // Every one was really refreshed, once.
  for (const id of ids) expect((await worker.store.getConnection(id))?.lastRefreshAt).toBeDefined()
}, 180_000)

it('a process asking tokens of many connections keeps at most cachedConnections records', async () => {
  f = await setup('bookingsync', {
    emulator: { config: { rotateRefreshTokens: false, reuseDetection: false } },
  })
  const ids = await manyConnections(f.keeper, f, f.now() + 3_600_000)
  const reader = await f.reopen({ cachedConnections: 50 })
  for (const id of ids) {
    const token = await reader.connection(id).accessToken()
    expect(token).toBe((await reader.store.getConnection(id))?.tokens?.accessToken)
    expect(reader.cachedConnectionRecords).toBeLessThanOrEqual(50)
  }
  expect(reader.cachedConnectionRecords).toBe(50)
  // The most recent ones are served from memory: the store is not read again for them.
  const recent = ids.slice(-10)
  const again = await Promise.all(recent.map((id) => reader.connection(id).accessToken()))
  expect(again).toHaveLength(10)
  expect(reader.cachedConnectionRecords).toBe(50)
})
