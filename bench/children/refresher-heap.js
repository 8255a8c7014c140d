// Run with --expose-gc by bench/suites/scale-real.js: the library's background refresher (the
// code behind `innkeeper worker`, audit trail on) refreshes N copies of one connection on
// PostgreSQL against the emulator at 0 ms; prints, as one JSON line, the heap after a full GC
// once warm and at the end, the refreshes between, and the records the token cache holds.
import { Innkeeper } from '../../dist/index.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  connectOne,
  postgresSchema,
  seedClones,
  startEmulatorProcess,
} from '../lib/world.js'

const n = Number(process.env.HEAP_N ?? 20_000)
const where = postgresSchema('heap')
// Killed by the suite's timeout (a loaded machine): drop the schema all the same, no leftovers.
process.once('SIGTERM', () => where.drop().finally(() => process.exit(1)))
const emulator = await startEmulatorProcess({ rotateRefreshTokens: false, reuseDetection: false })
const keeper = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS, audit: false })
try {
  await keeper.apps.add(APP, appSettings(emulator.info))
  const template = await keeper.store.getConnection(await connectOne(keeper, emulator, 'template'))
  await seedClones(keeper.store, template, { prefix: 's', count: n, dueAt: Date.now() - 1_000, parallel: 32 })
  const worker = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS, actor: 'worker:bench' })
  const refresher = worker.startRefresher({ idleMs: 100 })
  const heap = () => {
    globalThis.gc()
    globalThis.gc()
    return process.memoryUsage().heapUsed
  }
  const marks = []
  for (const at of [Math.ceil(n / 10), n]) {
    while (refresher.stats.refreshed + refresher.stats.failed < at)
      await new Promise((r) => setTimeout(r, 50))
    marks.push({
      refreshed: refresher.stats.refreshed,
      heapBytes: heap(),
      rssBytes: process.memoryUsage().rss,
    })
  }
  await refresher.stop()
  process.stdout.write(`${JSON.stringify({ n, marks, cachedRecords: worker.cachedConnectionRecords })}\n`)
  await worker.close()
} finally {
  await keeper.close()
  await emulator.close()
  await where.drop()
}
