import { describe, expect, it } from 'vitest'
import { Innkeeper, type UnreadableDetails } from '../../src/index.js'
import { refreshLeaseKey } from '../../src/stores/store.js'
import { cliEnv, runCli } from '../support/cli.js'
import { appFor } from '../support/keeper.js'
import { connectBs, useOpsWorld } from './world.js'

const K1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`
const K2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`

const world = await useOpsWorld('unreadable', { sqliteFile: 'u.db' })

/**
 * `bs/old` sealed under k1 only; the app and `bs/a`, `bs/b` under k2. All three are due once
 * their 2-second tokens pass the refresh margin (polled for, generously).
 */
async function storeWithOneUnreadable(store: string | undefined): Promise<{ tokens: string[] }> {
  const emulator = await world.startBookingSync(2)
  const old = await Innkeeper.open({ store, keys: K1 })
  await old.apps.add('bs', appFor(emulator, 'bookingsync'))
  await connectBs(old, 'old')
  await old.close()
  const both = await Innkeeper.open({ store, keys: `${K2},${K1}` })
  await both.apps.add('bs', appFor(emulator, 'bookingsync'))
  for (const name of ['a', 'b']) await connectBs(both, name)
  const records = await both.store.listConnections()
  const tokens = records.flatMap((record) => [
    record.tokens?.accessToken ?? '',
    record.tokens?.refreshToken ?? '',
  ])
  const deadline = Date.now() + 60_000
  while ((await both.store.listConnections()).some((record) => (record.refreshDueAt ?? 0) > Date.now())) {
    if (Date.now() > deadline) throw new Error('the connections never fell due')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await both.close()
  return { tokens: tokens.filter(Boolean) }
}

/** States by id; `active` and `expiring` both read `usable` (2-second tokens age while we look). */
function statesOf(connections: Array<{ id: string; state: string }>): Record<string, string> {
  return Object.fromEntries(
    connections.map((c) => [c.id, c.state === 'active' || c.state === 'expiring' ? 'usable' : c.state]),
  )
}

describe('a due connection sealed with a key the worker does not have', () => {
  it.each(world.stores())(
    '%s: `innkeeper worker --once` refreshes the healthy ones and reports the unreadable one once, without secrets',
    async (_kind, storeUrl) => {
      const home = world.makeHome('innkeeper-unreadable-')
      const store = storeUrl(home)! // always a URL: the world was given a SQLite file name
      const { tokens } = await storeWithOneUnreadable(store)
      const refreshesBefore = world.emulator().stats().tokenRequests.refresh_token ?? 0
      const env = cliEnv({ INNKEEPER_HOME: home, INNKEEPER_STORE: store, INNKEEPER_KEYS: K2 })

      // A long lease, so the second round below is sure to find bs/old's lease still held.
      const worker = await runCli(['worker', '--once', '--lease-ms', '600000'], env)
      expect(worker.code, worker.stderr).toBe(0)
      const lines = worker.stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
      const reports = lines.filter((line) => line.connection === 'bs/old')
      expect(reports).toHaveLength(1)
      expect(reports[0]).toMatchObject({ keyId: 'k1', state: 'key_unavailable', level: 50 })
      expect(String(reports[0]!.msg)).toContain('key')
      expect(lines.find((line) => line.msg === 'worker stopped')).toMatchObject({
        claimed: 3,
        refreshed: 2,
        unreadable: 1,
        failed: 0,
      })
      for (const secret of [...tokens, K1, K2]) expect(worker.stderr).not.toContain(secret)
      // Exactly the two healthy connections were refreshed, and are fresh now.
      expect((world.emulator().stats().tokenRequests.refresh_token ?? 0) - refreshesBefore).toBe(2)
      const reader = await Innkeeper.open({ store, keys: K2 })
      try {
        expect(statesOf(await reader.connections())).toEqual({
          'bs/a': 'usable',
          'bs/b': 'usable',
          'bs/old': 'key_unavailable',
        })
        const refreshed = await reader.store.listConnections()
        for (const record of refreshed.filter((r) => r.id !== 'bs/old'))
          expect(record.lastRefreshAt).toBeDefined()
        // Its lease is left to lapse, so the next worker round does not claim it again at once.
        expect(await reader.store.getLease(refreshLeaseKey('bs/old'), Date.now())).not.toBeNull()
      } finally {
        await reader.close()
      }
      const again = await runCli(['worker', '--once'], env)
      expect(again.code, again.stderr).toBe(0)
      expect(again.stderr).not.toContain('bs/old')
    },
    120_000,
  )

  it.each(world.stores())(
    '%s: the library refresher keeps refreshing the rest and tells `unreadable` listeners once',
    async (_kind, storeUrl) => {
      const home = world.makeHome('innkeeper-unreadable-lib-')
      const store = storeUrl(home)! // always a URL: the world was given a SQLite file name
      await storeWithOneUnreadable(store)
      const keeper = await Innkeeper.open({ store, keys: K2 })
      try {
        const told: Array<[string, UnreadableDetails]> = []
        keeper.on('unreadable', (info, details) => told.push([info.id, details]))
        // A lease of 1 s, so the unreadable record comes round again (a lease later, not at once).
        const refresher = keeper.startRefresher({ idleMs: 20, leaseMs: 1_000 })
        const deadline = Date.now() + 60_000
        while (refresher.stats.refreshed < 2 || refresher.stats.unreadable < 2) {
          if (Date.now() > deadline) throw new Error(`stuck: ${JSON.stringify(refresher.stats)}`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        await refresher.stop()
        expect(refresher.stats.failed).toBe(0)
        expect(told).toEqual([['bs/old', { code: 'key_unavailable', keyId: 'k1' }]])
        expect(statesOf(await keeper.connections())).toEqual({
          'bs/a': 'usable',
          'bs/b': 'usable',
          'bs/old': 'key_unavailable',
        })
      } finally {
        await keeper.close()
      }
    },
    120_000,
  )
})
