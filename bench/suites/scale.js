// Suite scale-ladder (measure 5): `innkeeper worker` processes (CLI defaults; idle 100 ms)
// keeping N connections fresh on PostgreSQL, with 1 and 3 workers, for N = 1k and 10k (and 100k
// with --full). Connections are seeded straight into the store by COPY (bench/lib/bulk-seed.js,
// each sealed under its own id) as copies of one real connection; the emulator runs with zero latency and without refresh
// token rotation, so every copy's refresh token stays valid. A run marks all N due at one
// instant (t0, workers already idling) and measures until every one is refreshed, or for a fixed
// time box, in which case the figures are for the slice refreshed (said in the table):
// refreshes/s, lag from t0 to each committed refresh (p50/p99), and worker RSS growth per 10k
// connections refreshed (each worker caches what it refreshed). Token requests are checked
// against refreshes (no connection refreshed twice). Throughput is compared with N = 1k.
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { Innkeeper } from '../../dist/index.js'
import { copyClones } from '../lib/bulk-seed.js'
import { MB, rssOf, sleep } from '../lib/stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  connectOne,
  POSTGRES_URL,
  postgresSchema,
  startEmulatorProcess,
  startWorker,
  waitFor,
} from '../lib/world.js'

const FAR = 24 * 3_600_000

export async function scale({ quick, full }) {
  const sizes = quick ? [300, 1_000, 3_000] : full ? [1_000, 10_000, 100_000] : [1_000, 10_000]
  // Longest a run may take before its figures are taken from the slice refreshed so far.
  const timeBoxMs = quick ? 4_000 : 20_000
  const emulator = await startEmulatorProcess({
    rotateRefreshTokens: false,
    reuseDetection: false,
    latencyMs: 0,
  })
  const where = postgresSchema('scale')
  const keeper = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS, audit: false })
  const db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
  const table = `"${where.schema}".innkeeper_connections`
  const runs = []
  try {
    await keeper.apps.add(APP, appSettings(emulator.info))
    const templateId = await connectOne(keeper, emulator, 'template')
    const template = await keeper.store.getConnection(templateId)
    await db.query(`UPDATE ${table} SET refresh_due_at = $1`, [Date.now() + FAR])

    let seeded = 0
    for (const n of sizes) {
      const seedStart = performance.now()
      const now = Date.now()
      await copyClones(db, {
        schema: where.schema,
        template,
        prefix: 's',
        from: seeded,
        count: n - seeded,
        fleet: { n, obtainedFrom: now, spanMs: 0, lifetimeMs: FAR, marginMs: 0 },
      })
      const seedMs = performance.now() - seedStart
      const seededNow = n - seeded
      seeded = n
      const { rows: size } = await db.query(`SELECT pg_total_relation_size($1::regclass) AS bytes`, [table])
      for (const workers of [1, 3]) {
        await db.query(`UPDATE ${table} SET refresh_due_at = $1`, [Date.now() + FAR])
        await db.query(`VACUUM ANALYZE ${table}`)
        const procs = Array.from({ length: workers }, () => startWorker(where.url))
        await waitFor(
          'the workers to start',
          () => procs.every((p) => p.lines.some((line) => line.msg === 'worker started')),
          30_000,
        )
        await sleep(300)
        const idleRss = procs.map((p) => rssOf(p.child.pid))
        const before = await emulator.stats()
        // Every connection falls due at t0, a moment after this UPDATE has committed (marking 100k
        // rows takes a while), so the workers see them all at once and the window starts at t0.
        const t0 = Date.now() + 1_000 + Math.ceil(n / 40)
        await db.query(`UPDATE ${table} SET refresh_due_at = $1 WHERE name LIKE 's%'`, [t0])
        const lateMs = Math.max(0, Date.now() - t0)
        await sleep(Math.max(0, t0 - Date.now()))
        const started = performance.now()
        // Progress from the workers' own round lines on stderr (polling the table would cost CPU
        // the workers need, more so at 100k rows).
        const refreshedSoFar = () =>
          procs.reduce(
            (sum, p) =>
              sum + p.lines.reduce((s2, line) => s2 + (line.msg === 'round' ? line.refreshed : 0), 0),
            0,
          )
        while (performance.now() - started < timeBoxMs && refreshedSoFar() < n) await sleep(100)
        const stoppedAt = Date.now()
        const endRss = procs.map((p) => rssOf(p.child.pid))
        for (const p of procs) p.child.kill('SIGTERM')
        const codes = await Promise.all(procs.map((p) => p.exited))
        const after = await emulator.stats()
        const { rows } = await db.query(
          `SELECT count(*)::int AS n, max(last_refresh_at) AS last,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY last_refresh_at - $1) AS p50,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY last_refresh_at - $1) AS p99
           FROM ${table} WHERE name LIKE 's%' AND last_refresh_at >= $1`,
          [t0],
        )
        const done = rows[0].n
        const complete = done >= n
        const windowMs = complete ? Number(rows[0].last) - t0 : stoppedAt - t0
        const tokenRequests =
          (after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0)
        const summaries = procs.map((p) => p.lines.find((line) => line.msg === 'worker stopped') ?? {})
        const workerRefreshed = summaries.reduce((sum, s) => sum + (s.refreshed ?? 0), 0)
        const rssGrowth = endRss.reduce((sum, rss, i) => sum + (rss - idleRss[i]), 0)
        runs.push({
          n,
          workers,
          complete,
          refreshed: done,
          workerRefreshed,
          tokenRequests,
          failed: summaries.reduce((sum, s) => sum + (s.failed ?? 0), 0),
          exitCodes: codes,
          windowMs,
          perSecond: done / (windowMs / 1000),
          lagP50Ms: Number(rows[0].p50),
          lagP99Ms: Number(rows[0].p99),
          idleRssBytes: idleRss,
          endRssBytes: endRss,
          storeBytesPer10k: (Number(size[0].bytes) / (n + 1)) * 10_000,
          seedMs: Math.round(seedMs),
          markedLateMs: lateMs,
          seeded: seededNow,
        })
        process.stderr.write(
          `[scale] N=${n} workers=${workers}: ${done} refreshed in ${windowMs} ms (${complete ? 'all' : 'time box'}), ` +
            `${tokenRequests} token requests, rss +${(rssGrowth / MB).toFixed(1)} MB\n`,
        )
      }
    }
  } finally {
    await db.end()
    await keeper.close()
    await emulator.close()
    await where.drop()
  }

  // Worker memory per 10k connections: least-squares slope of the workers' summed RSS at the end
  // of each run against the connections they refreshed (and so cache), per worker count.
  const slope = (points) => {
    const mx = points.reduce((sum, p) => sum + p.x, 0) / points.length
    const my = points.reduce((sum, p) => sum + p.y, 0) / points.length
    const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0)
    const sxy = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0)
    return sxx > 0 ? sxy / sxx : Number.NaN
  }
  const memory = [1, 3].map((workers) => {
    const points = runs
      .filter((r) => r.workers === workers)
      .map((r) => ({ x: r.refreshed, y: r.endRssBytes.reduce((sum, rss) => sum + rss, 0) }))
    return { workers, points, bytesPer10k: slope(points) * 10_000 }
  })
  const base = Object.fromEntries(runs.filter((r) => r.n === sizes[0]).map((r) => [r.workers, r.perSecond]))
  const rows = runs.map((r) => {
    const consistent =
      r.tokenRequests === r.workerRefreshed && r.failed === 0 && r.refreshed === r.workerRefreshed
    const what = r.complete
      ? `all ${r.n} due at once`
      : `${r.refreshed} of ${r.n} due at once in a ${Math.round(r.windowMs / 1000)} s time box`
    return {
      id: `scale.${r.n}.${r.workers}w`,
      measure: `refresher N=${r.n.toLocaleString('en')}, ${r.workers} worker${r.workers > 1 ? 's' : ''}: refreshes/s (${what})`,
      unit: '/s',
      subject: r.perSecond,
      baseline: base[r.workers],
      ratio: r.perSecond / base[r.workers],
      ratioMeaning: `throughput relative to N=${sizes[0]} with the same workers`,
      target: '1 token req per refresh',
      met: consistent,
      informational: true,
      note:
        `lag p50 ${Math.round(r.lagP50Ms)} ms, p99 ${Math.round(r.lagP99Ms)} ms after due; worker RSS ${r.endRssBytes.map((b) => Math.round(b / MB)).join('+')} MB at the end (idle ${r.idleRssBytes.map((b) => Math.round(b / MB)).join('+')}); ` +
        `store ${(r.storeBytesPer10k / MB).toFixed(1)} MB per 10k rows; token requests ${r.tokenRequests} = refreshes ${r.workerRefreshed}${consistent ? '' : ' (MISMATCH or failures)'}` +
        (r.complete
          ? ''
          : `; the whole backlog would take ~${Math.round(r.n / r.perSecond)} s at this rate (extrapolated)`),
    }
  })
  for (const m of memory) {
    rows.push({
      id: `scale.rss.${m.workers}w`,
      measure: `refresher, ${m.workers} worker${m.workers > 1 ? 's' : ''}: RSS per 10k refreshed (slope over runs, no GC)`,
      unit: 'bytes',
      subject: m.bytesPer10k,
      target: '—',
      informational: true,
      note: 'workers RSS at the end of each run against connections refreshed, without GC (garbage and warm-up included): an upper bound; see the keeper cache row for the GC-measured figure',
    })
  }
  return { raw: { sizes, timeBoxMs, runs, memory }, rows }
}
