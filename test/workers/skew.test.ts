// Issue 13 item 14: lease expiry is judged by the database server's clock, so a worker whose
// clock runs 5 minutes ahead cannot take a refresh lease another process still holds. Two
// Innkeepers on two store handles, one clock 5 minutes ahead of the other; the emulator rotates
// refresh tokens with reuse detection (a second refresh of the same token would revoke the
// grant). Still one refresh, and both processes get the one new token. (SQLite is one machine
// with one clock: it judges by the caller's `now`, docs/stores.md.)
import { afterEach, expect, it } from 'vitest'
import {
  connectMany,
  describeOnStore,
  type StoreKind,
  tokenWorks,
  type World,
  waitFor,
  world,
} from './harness.js'

const SKEW_MS = 5 * 60_000

for (const kind of ['postgres', 'redis'] as StoreKind[]) {
  await describeOnStore(kind, 'worker clocks that disagree', () => {
    let w: World | undefined
    afterEach(async () => {
      await w?.dispose()
      w = undefined
    })

    it('a process whose clock is 5 minutes ahead waits for the lease another holds: one refresh', async () => {
      w = await world(kind)
      const [id] = await connectMany(w, 1)
      // Both clocks past the 2-hour lifetime: both processes want to refresh.
      w.advance(7200)
      const ahead = await w.reopen({ now: () => w!.now() + SKEW_MS })
      // The token request hangs long enough for the second process to try while the first holds the lease.
      w.emulator.configure({ latencyMs: 4_000 })
      const first = w.keeper.connection(id!).accessToken()
      await waitFor(
        'the first process to hold the lease with its token request in flight',
        () => (w!.emulator.stats().tokenRequests.refresh_token ?? 0) >= 1,
      )
      const second = ahead.connection(id!).accessToken()
      const [tokenA, tokenB] = await Promise.all([first, second])

      const stats = w.emulator.stats()
      expect(stats.tokenRequests.refresh_token).toBe(1)
      expect(Object.values(stats.refreshesByFamily)).toEqual([1])
      expect(stats.reuseDetected).toBe(0)
      expect(stats.tokenErrors.invalid_grant ?? 0).toBe(0)
      expect(tokenB).toBe(tokenA)
      w.emulator.configure({ latencyMs: 0 })
      expect(await tokenWorks(w, tokenA)).toBe(true)
      expect((await w.keeper.store.getConnection(id!))?.state).toBe('active')
    }, 60_000)
  })
}
