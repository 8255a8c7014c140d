// Issue 15, scale at real platform latency, on PostgreSQL with `innkeeper worker` (CLI defaults:
// adaptive concurrency up to 32 per app, 64 in all; batch 50; idle 100 ms):
// - scale.real.<N>.1w: one worker, N = 100k connections with 2-hour tokens, emulator token
//   endpoint 150 ± 50 ms (bench/lib/real-fleet.js: the fleet as after a 10-minute outage, the
//   rate while a backlog is left against N/6,600, and every connection checked in the store for
//   a refresh before its token expired). The worker runs until the backlog is gone and 20 s
//   more (at most 150 s), so the steady state after it is measured too.
// - scale.linear: refreshes/s at N = 100k against N = 10k, 0 ms endpoint, same time box; with
//   EXPLAIN (ANALYZE, BUFFERS) of the claim's candidate query at the start and at the end of
//   each run, so the cause of any slowdown is measured, not guessed.
// - scale.memory.1w: retained heap per 10k connections refreshed (child with --expose-gc), with
//   the worker's RSS slope from the 100k run in the note.
// Connections are copies of one real connection, each sealed under its own id, seeded by COPY
// (bench/lib/bulk-seed.js; the seeding time is reported). BENCH_QUICK=1: small N, short box.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { Innkeeper } from '../../dist/index.js'
import { copyClones } from '../lib/bulk-seed.js'
import { fleetNote, keptFresh, oneWorkerFleet, runRealFleet } from '../lib/real-fleet.js'
import { MB, rssOf, sleep } from '../lib/stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  connectOne,
  POSTGRES_URL,
  postgresSchema,
  ROOT,
  startEmulatorProcess,
  startWorker,
  waitFor,
} from '../lib/world.js'

const FAR = 24 * 3_600_000

/** The claim's candidate query (src/stores/postgres/leases.ts) under EXPLAIN: time and buffers touched. */
async function explainClaim(db, schema, now, variant = 'scalar') {
  // `scalar`: the lease check as the store writes it now; `notExists`: as it was before issue 15.
  const leaseCheck =
    variant === 'scalar'
      ? `coalesce((SELECT l.expires_at FROM "${schema}".innkeeper_leases l WHERE l.key = 'refresh:' || c.id), 0) <= $1`
      : `NOT EXISTS (SELECT 1 FROM "${schema}".innkeeper_leases l WHERE l.key = 'refresh:' || c.id AND l.expires_at > $1)`
  const { rows } = await db.query(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
     SELECT c.id FROM "${schema}".innkeeper_connections c
     WHERE c.refresh_due_at <= $1 AND c.state IN ('active', 'error') AND ${leaseCheck}
     ORDER BY c.refresh_due_at, c.id LIMIT 50 FOR UPDATE OF c SKIP LOCKED`,
    [now],
  )
  const plan = rows[0]['QUERY PLAN'][0]
  const text = []
  const describe = (node, depth) => {
    text.push(
      `${'  '.repeat(depth)}${node['Node Type']}${node['Relation Name'] ? ` ${node['Relation Name']}` : ''}${node['Index Name'] ? ` (${node['Index Name']})` : ''} rows=${node['Actual Rows']} loops=${node['Actual Loops']} buffers=${buffers(node)}`,
    )
    for (const child of node.Plans ?? []) describe(child, depth + 1)
  }
  const buffers = (node) => (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0)
  const scans = []
  const walk = (node) => {
    if (node['Node Type']?.includes('Scan'))
      scans.push(`${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`)
    for (const child of node.Plans ?? []) walk(child)
  }
  walk(plan.Plan)
  describe(plan.Plan, 0)
  if (process.env.BENCH_EXPLAIN) process.stderr.write(`${text.join('\n')}\n`)
  return { plan: text, ms: plan['Execution Time'], buffers: buffers(plan.Plan), scans: [...new Set(scans)] }
}

/** One run: N seeded connections all due at t0, one worker, until all are refreshed or the box ends. */
async function run({ db, where, emulator, n, timeBoxMs }) {
  const table = `"${where.schema}".innkeeper_connections`
  await db.query(`UPDATE ${table} SET refresh_due_at = $1`, [Date.now() + FAR])
  await db.query(`VACUUM ANALYZE ${table}`)
  const worker = startWorker(where.url)
  await waitFor(
    'the worker to start',
    () => worker.lines.some((line) => line.msg === 'worker started'),
    60_000,
  )
  await sleep(300)
  const idleRss = rssOf(worker.child.pid)
  const before = await emulator.stats()
  const t0 = Date.now() + 1_000 + Math.ceil(n / 40)
  await db.query(`UPDATE ${table} SET refresh_due_at = $1 WHERE name LIKE 's%'`, [t0])
  await sleep(Math.max(0, t0 - Date.now()))
  const explainStart = await explainClaim(db, where.schema, Date.now())
  const explainStartOld = await explainClaim(db, where.schema, Date.now(), 'notExists')
  const started = performance.now()
  const refreshedSoFar = () =>
    worker.lines.reduce((sum, line) => sum + (line.msg === 'round' ? line.refreshed : 0), 0)
  // RSS once warmed up (a quarter into the box) and at the end: the slope between the two is the
  // growth per connection refreshed, without the one-time cost of the first refreshes.
  let warm
  while (performance.now() - started < timeBoxMs && refreshedSoFar() < n) {
    await sleep(200)
    if (!warm && performance.now() - started >= timeBoxMs / 4)
      warm = { rss: rssOf(worker.child.pid), refreshed: refreshedSoFar() }
  }
  const endRefreshed = refreshedSoFar()
  const stoppedAt = Date.now()
  const explainEnd = await explainClaim(db, where.schema, Date.now())
  const endRss = rssOf(worker.child.pid)
  worker.child.kill('SIGTERM')
  const code = await worker.exited
  const after = await emulator.stats()
  const { rows } = await db.query(
    `SELECT count(*)::int AS n, max(last_refresh_at) AS last FROM ${table}
     WHERE name LIKE 's%' AND last_refresh_at >= $1`,
    [t0],
  )
  const { rows: dead } = await db.query(
    `SELECT n_dead_tup::int AS dead, n_live_tup::int AS live FROM pg_stat_user_tables
     WHERE schemaname = $1 AND relname = 'innkeeper_connections'`,
    [where.schema],
  )
  const done = rows[0].n
  const complete = done >= n
  const windowMs = complete ? Number(rows[0].last) - t0 : stoppedAt - t0
  const summary = worker.lines.find((line) => line.msg === 'worker stopped') ?? {}
  const tokenRequests = (after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0)
  return {
    n,
    complete,
    refreshed: done,
    workerRefreshed: summary.refreshed ?? 0,
    failed: summary.failed ?? 0,
    tokenRequests,
    refused429: (after.overRateLimit ?? 0) - (before.overRateLimit ?? 0),
    peakInFlight: after.peakConcurrentTokenRequests,
    concurrencyPerApp: summary.concurrencyPerApp,
    exitCode: code,
    windowMs,
    perSecond: done / (windowMs / 1000),
    idleRssBytes: idleRss,
    endRssBytes: endRss,
    warmRss: warm,
    endRefreshedByLog: endRefreshed,
    explainStart,
    explainStartOld,
    explainEnd,
    deadTuples: dead[0]?.dead,
  }
}

/** Heap after GC per 10k refreshed, in a child with --expose-gc (bench/children/refresher-heap.js). */
function refresherHeap(n) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', join(ROOT, 'bench/children/refresher-heap.js')],
      { env: { ...process.env, HEAP_N: String(n) }, maxBuffer: 1 << 20, timeout: 600_000 },
      (error, stdout) => {
        if (error) reject(error)
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1)))
      },
    )
  })
}

export async function scaleReal({ quick }) {
  const realN = oneWorkerFleet(quick).n
  const linear = quick ? [500, 5_000] : [10_000, 100_000]
  const timeBoxMs = quick ? 8_000 : 30_000
  const log = (line) => process.stderr.write(`[scale-real] ${line}\n`)
  const where = postgresSchema('scalereal')
  const db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
  const emulator = await startEmulatorProcess({
    rotateRefreshTokens: false,
    reuseDetection: false,
    accessTokenTtl: 7_200,
    latencyMs: 0,
  })
  const keeper = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS, audit: false })
  const runs = { linear: [] }
  const seeding = []
  try {
    await keeper.apps.add(APP, appSettings(emulator.info))
    const templateId = await connectOne(keeper, emulator, 'template')
    const template = await keeper.store.getConnection(templateId)
    await db.query(`UPDATE "${where.schema}".innkeeper_connections SET refresh_due_at = $1`, [
      Date.now() + FAR,
    ])
    let seeded = 0
    for (const n of linear) {
      const now = Date.now()
      const { ms } = await copyClones(db, {
        schema: where.schema,
        template,
        prefix: 's',
        from: seeded,
        count: n - seeded,
        fleet: { n, obtainedFrom: now, spanMs: 0, lifetimeMs: FAR, marginMs: 0 },
      })
      seeding.push({ to: n, rows: n - seeded, ms })
      log(`seeded ${n - seeded} rows in ${ms} ms`)
      seeded = n
      const r = await run({ db, where, emulator, n, timeBoxMs })
      runs.linear.push(r)
      log(`linear N=${n}: ${r.refreshed} in ${r.windowMs} ms (${Math.round(r.perSecond)}/s)`)
    }
  } finally {
    await db.end()
    await keeper.close()
    await emulator.close()
    await where.drop()
  }
  runs.real = await runRealFleet({ label: 'scalereal', ...oneWorkerFleet(quick), log })

  const rows = []
  const real = runs.real
  rows.push({
    id: 'scale.real.100000.1w',
    measure: `1 worker, N=${realN.toLocaleString('en')} 2-hour tokens, token endpoint 150±50 ms: sustained refreshes/s`,
    unit: '/s',
    subject: real.perSecond,
    baseline: real.required,
    ratio: real.ratio,
    ratioMeaning: 'refreshes/s while a backlog was left, over what N/6,600 requires',
    target: '≥ 3×, every connection refreshed before expiry',
    met: real.ratio >= 3 && keptFresh(real),
    note: fleetNote(real),
  })
  const [small, large] = runs.linear
  rows.push({
    id: 'scale.linear',
    measure: `1 worker, 0 ms endpoint: refreshes/s at N=${large.n.toLocaleString('en')} vs N=${small.n.toLocaleString('en')}`,
    unit: '/s',
    subject: large.perSecond,
    baseline: small.perSecond,
    ratio: large.perSecond / small.perSecond,
    target: '≥ 0.95×',
    met: large.perSecond / small.perSecond >= 0.95,
    note:
      `claim query (EXPLAIN ANALYZE, LIMIT 50) at N=${small.n}: ${small.explainStart.ms.toFixed(2)} ms / ${small.explainStart.buffers} buffers at t0, ` +
      `${small.explainEnd.ms.toFixed(2)} ms / ${small.explainEnd.buffers} buffers after ${small.refreshed} refreshes (${small.deadTuples} dead tuples); ` +
      `at N=${large.n}: ${large.explainStart.ms.toFixed(2)} ms / ${large.explainStart.buffers} buffers at t0, ` +
      `${large.explainEnd.ms.toFixed(2)} ms / ${large.explainEnd.buffers} buffers after ${large.refreshed} refreshes (${large.deadTuples} dead tuples); ` +
      `plan: ${large.explainEnd.scans.join(', ')}; the lease check written as NOT EXISTS (before issue 15) at t0 of N=${large.n}: ${large.explainStartOld.ms.toFixed(2)} ms / ${large.explainStartOld.buffers} buffers (${large.explainStartOld.plan.map((line) => line.trim().split(' rows=')[0]).join(' > ')})`,
  })
  // A failed heap child fails its own row only; the rows above stay.
  const heapRun = await refresherHeap(quick ? 3_000 : 10_000).catch((error) => ({
    error: String(error?.message ?? error),
  }))
  if (heapRun.error) {
    rows.push({
      id: 'scale.memory.1w',
      measure: `1 worker: retained memory per 10k connections refreshed: FAILED (${heapRun.error})`,
      met: false,
    })
    return { raw: { realN, linear, timeBoxMs, seeding, runs, heapRun }, rows }
  }
  const [h0, h1] = heapRun.marks
  const heapPer10k = ((h1.heapBytes - h0.heapBytes) / Math.max(1, h1.refreshed - h0.refreshed)) * 10_000
  const m = large
  const warm = m.warmRss ?? { rss: m.idleRssBytes, refreshed: 0 }
  const perTenK = ((m.endRssBytes - warm.rss) / Math.max(1, m.endRefreshedByLog - warm.refreshed)) * 10_000
  rows.push({
    id: 'scale.memory.1w',
    measure: '1 worker: retained memory per 10k connections refreshed (heap after GC)',
    unit: 'bytes',
    subject: heapPer10k,
    target: '≤ 10 MB per 10k, bounded',
    met: heapPer10k <= 10 * MB && heapRun.cachedRecords === 0,
    note:
      `heap after a full GC in the refresher (library, audit on, ${heapRun.n} connections): ${(h0.heapBytes / MB).toFixed(1)} MB after ${h0.refreshed} refreshes, ${(h1.heapBytes / MB).toFixed(1)} MB after ${h1.refreshed}; token cache ${heapRun.cachedRecords} records. ` +
      `RSS of the worker process without GC grows ${(perTenK / MB).toFixed(0)} MB per 10k (collectable garbage; ` +
      `N=${m.n}, 0 ms endpoint: idle ${Math.round(m.idleRssBytes / MB)} MB, ${Math.round(warm.rss / MB)} MB after ${warm.refreshed} refreshes, ` +
      `${Math.round(m.endRssBytes / MB)} MB after ${m.endRefreshedByLog}; the slope between the last two)`,
  })
  return { raw: { realN, linear, timeBoxMs, seeding, runs, heapRun }, rows }
}
