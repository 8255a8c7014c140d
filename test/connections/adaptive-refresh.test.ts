// The refresher's adaptive concurrency against a platform that answers slowly and rate-limits
// per client (issue 15): every due connection is refreshed exactly once, none is lost, and the
// 429s stay few because the refresher backs off and waits out Retry-After. Counts, never times.
import { afterEach, describe, expect, it } from 'vitest'
import { AdaptiveLimit, RefreshSlots } from '../../src/connections/adaptive-limit.js'
import type { ConnectionRecord } from '../../src/stores/store.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

describe('AdaptiveLimit', () => {
  it('grows by one per window answered near the floor, halves on push-back, respects its cap', () => {
    const limit = new AdaptiveLimit({ initial: 4, max: 6 })
    for (let i = 0; i < 4; i++) limit.succeeded(100)
    expect(limit.limit).toBe(5)
    for (let i = 0; i < 5; i++) limit.succeeded(110)
    expect(limit.limit).toBe(6)
    for (let i = 0; i < 60; i++) limit.succeeded(100)
    expect(limit.limit).toBe(6) // the operator's cap
    limit.overloaded(10_000, 2_000)
    expect(limit.limit).toBe(3)
    expect(limit.canStart(11_000)).toBe(false) // Retry-After
    expect(limit.canStart(12_000)).toBe(true)
    limit.overloaded(10_010) // the same burst of refusals counts once
    expect(limit.limit).toBe(3)
    limit.overloaded(20_000)
    limit.overloaded(30_000)
    limit.overloaded(40_000)
    expect(limit.limit).toBe(1) // never below one
    // Answers far slower than the floor: the platform is queueing, no growth.
    for (let i = 0; i < 10; i++) limit.succeeded(1_000)
    expect(limit.limit).toBe(1)
    limit.max = 1
    expect(limit.limit).toBe(1)
  })

  it('RefreshSlots never runs more than the total or an app its limit', async () => {
    const slots = new RefreshSlots(3, () => 2)
    let running = 0
    let peak = 0
    let peakA = 0
    let runningA = 0
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const app = i % 2 === 0 ? 'a' : 'b'
        await slots.acquire(app)
        running += 1
        if (app === 'a') runningA += 1
        peak = Math.max(peak, running)
        peakA = Math.max(peakA, runningA)
        await new Promise((resolve) => setTimeout(resolve, 1))
        running -= 1
        if (app === 'a') runningA -= 1
        slots.release(app)
      }),
    )
    slots.close()
    expect(peak).toBeLessThanOrEqual(3)
    expect(peakA).toBeLessThanOrEqual(2)
  })
})

const CONNECTIONS = 80
const RATE = 10

let f: Fixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

it(`refreshes ${CONNECTIONS} due connections exactly once at 50±20 ms and ${RATE} token requests/s, backing off on 429`, async () => {
  f = await setup('bookingsync', {
    emulator: {
      config: {
        rotateRefreshTokens: false,
        reuseDetection: false,
        latencyMs: 50,
        latencyJitterMs: 20,
        tokenRequestsPerSecond: RATE,
      },
    },
  })
  const { keeper } = f
  await keeper.apps.add('bs', appFor(f.emulator, 'bookingsync'))
  const start = await keeper.authorize('bs', { name: 'template', scopes: ['rentals_read'] })
  const url = new URL(start.url)
  const { code } = f.emulator.approve({
    scope: url.searchParams.get('scope') ?? undefined,
    state: start.state,
    redirectUri: start.redirectUri,
  })
  const info = await start.complete({ code, state: start.state })
  const template = (await keeper.store.getConnection(info.id)) as ConnectionRecord
  const due = f.now() - 1_000
  const ids: string[] = []
  for (let i = 0; i < CONNECTIONS; i++) {
    const id = `bs/c${i}`
    await keeper.store.saveConnection({ ...template, id, name: `c${i}`, refreshDueAt: due, version: 0 }, 0)
    ids.push(id)
  }
  const before = f.emulator.stats()
  const worker = await f.reopen()
  const refresher = worker.startRefresher({ batchSize: 40, idleMs: 20, maxConcurrencyPerApp: 16 })
  const deadline = Date.now() + 240_000
  const done = async () => {
    let count = 0
    for (const id of ids) {
      const record = await worker.store.getConnection(id)
      if (record?.tokens?.accessToken !== template.tokens?.accessToken) count += 1
    }
    return count
  }
  while ((await done()) < ids.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  await refresher.stop()
  const after = f.emulator.stats()
  // Every one refreshed, each by exactly one accepted token request.
  expect(await done()).toBe(ids.length)
  const family = Object.keys(after.refreshesByFamily)[0]!
  expect((after.refreshesByFamily[family] ?? 0) - (before.refreshesByFamily[family] ?? 0)).toBe(ids.length)
  expect(refresher.stats.failed).toBe(0)
  // Backed off: far fewer 429s than refreshes (a fixed 8 at once would draw several per refresh).
  const refused = after.overRateLimit - before.overRateLimit
  expect(refused).toBeLessThan(ids.length / 2)
  expect(refresher.concurrency.bs?.limit).toBeGreaterThanOrEqual(1)
}, 300_000)
