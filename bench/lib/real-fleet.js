// One run of a fleet at real platform latency (issue 15's scale.real.* ids): N connections with
// 2-hour tokens on PostgreSQL, `workers` × `innkeeper worker`, the emulator's token endpoint at
// 150 ± 50 ms. The fleet is the worst it can be without a token having expired: it was kept in
// steady state (tokens obtained evenly over the last 6,600 s), then the workers were down until
// `leadMs` before the first token expires. At t0 they are back: (600 s − lead) × N/6,600
// connections are due at once and more fall due at N/6,600 per second, which is also the rate
// at which tokens expire. Measured: the refreshes/s the workers sustain while a backlog is left
// (after a warm-up), the concurrency their adaptive limits settled at, and from the store, for
// every connection, that none expired before it was refreshed (see docs/scaling.md).
//
// Seeding (COPY, bench/lib/bulk-seed.js) is in two parts so the times are right at t0 however
// long it takes: first the connections that fall due after the run, then the first `urgent`
// ones (the backlog and everything due until the end of the slice), anchored so the first token
// expires `leadMs` after their COPY commits, which is t0 (the workers are already idling). The
// check does not depend on the anchors: each row's seeded expiry is its created_at + 2 h.
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { Innkeeper } from '../../dist/index.js'
import { copyClones } from './bulk-seed.js'
import { sleep } from './stats.js'
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
} from './world.js'

export const LIFETIME_MS = 7_200_000
/** What the keeper keeps in reserve of a 2-hour token (src/connections/timing.ts: 10 %, at most 10 minutes). */
export const MARGIN_MS = 600_000
/** Each connection is refreshed once per lifetime minus margin: N/6,600 refreshes/s in steady state. */
export const STEADY_SECONDS = (LIFETIME_MS - MARGIN_MS) / 1000
const ACTIVE = `state IN ('active', 'error')`

/** Workers' refreshes so far, from their `round` log lines (no store reads while they work). */
const refreshedSoFar = (procs) =>
  procs.reduce(
    (sum, p) => sum + p.lines.reduce((s, line) => s + (line.msg === 'round' ? line.refreshed : 0), 0),
    0,
  )

/**
 * Runs the fleet. `warmMs`: time after t0 left out of the rate (adaptive limits climbing);
 * `sliceMs`: how long the workers run; `untilDrained`: stop `afterDrainMs` after the backlog is
 * gone (still within sliceMs). Answers everything measured; throws on a broken setup.
 */
export async function runRealFleet({
  label,
  n,
  workers,
  warmMs,
  sliceMs,
  leadMs = 60_000,
  untilDrained = false,
  afterDrainMs = 20_000,
  log = () => {},
}) {
  const required = n / STEADY_SECONDS
  const where = postgresSchema(label)
  const db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
  const emulator = await startEmulatorProcess({
    rotateRefreshTokens: false,
    reuseDetection: false,
    accessTokenTtl: LIFETIME_MS / 1000,
    latencyMs: 150,
    latencyJitterMs: 50,
  })
  const procs = []
  try {
    const keeper = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS, audit: false })
    let template
    try {
      await keeper.apps.add(APP, appSettings(emulator.info))
      template = await keeper.store.getConnection(await connectOne(keeper, emulator, 'template'))
    } finally {
      await keeper.close()
    }
    const table = `"${where.schema}".innkeeper_connections`
    // The first `urgent` clones: what is due at t0 plus what falls due until the slice ends, with
    // room for a late t0; the rest falls due after the run.
    const urgent = Math.min(
      n,
      Math.ceil(((MARGIN_MS - leadMs + sliceMs + 180_000) / 1000 / STEADY_SECONDS) * n),
    )
    const fleet = (t0) => ({
      n,
      obtainedFrom: t0 + leadMs - LIFETIME_MS,
      spanMs: STEADY_SECONDS * 1000,
      lifetimeMs: LIFETIME_MS,
      marginMs: MARGIN_MS,
    })
    const seedStart = performance.now()
    const seedingStartedAt = Date.now()
    let msPerRow = 0.1
    if (urgent < n) {
      // Anchored at a t0 guessed before seeding, 1 ms a row (slower than any seeding seen, so at
      // most a lull after the urgent rows, never an early expiry): none of these falls due in
      // the slice unless seeding takes over 3 minutes longer than that guess, none expires in
      // it unless over 13 minutes longer.
      const later = await copyClones(db, {
        schema: where.schema,
        template,
        prefix: 's',
        from: urgent,
        count: n - urgent,
        fleet: fleet(seedingStartedAt + n),
      })
      msPerRow = later.ms / later.rows
      log(`seeded ${later.rows} later rows in ${later.ms} ms`)
    }
    await db.query(`ANALYZE ${table}`)
    for (let i = 0; i < workers; i++) procs.push(startWorker(where.url))
    await waitFor(
      'the workers to start',
      () => procs.every((p) => p.lines.some((line) => line.msg === 'worker started')),
      120_000,
    )
    const plannedT0 = Date.now() + Math.round(urgent * msPerRow * 1.3) + 1_000
    const first = await copyClones(db, {
      schema: where.schema,
      template,
      prefix: 's',
      count: urgent,
      fleet: fleet(plannedT0),
    })
    const t0 = Date.now()
    const seedMs = Math.round(performance.now() - seedStart)
    const { rows: size } = await db.query('SELECT pg_total_relation_size($1::regclass)::float8 AS bytes', [
      table,
    ])
    log(`seeded ${first.rows} urgent rows in ${first.ms} ms (t0 ${t0 - plannedT0} ms after plan)`)
    const before = await emulator.stats()

    // The backlog (due and not refreshed) every 5 s: a walk of the due index, cheap next to the refreshes.
    const backlog = async () => {
      const at = Date.now()
      const { rows } = await db.query(
        `SELECT count(*)::int AS due FROM ${table} WHERE refresh_due_at <= $1 AND ${ACTIVE}`,
        [at],
      )
      return { at, due: rows[0].due, refreshed: refreshedSoFar(procs) }
    }
    const samples = [await backlog()]
    const started = performance.now()
    let drainedAt
    while (performance.now() - started < sliceMs) {
      await sleep(Math.min(5_000, Math.max(0, sliceMs - (performance.now() - started))))
      const sample = await backlog()
      samples.push(sample)
      log(`+${Math.round((sample.at - t0) / 1000)} s: ${sample.refreshed} refreshed, ${sample.due} due`)
      if (drainedAt === undefined && sample.due < workers * 50) drainedAt = sample.at
      if (untilDrained && drainedAt !== undefined && sample.at - drainedAt >= afterDrainMs) break
    }
    const stoppedAt = Date.now()
    for (const p of procs) p.child.kill('SIGTERM')
    const exitCodes = await Promise.all(procs.map((p) => p.exited))
    const after = await emulator.stats()
    const summaries = procs.map((p) => p.lines.find((line) => line.msg === 'worker stopped') ?? {})

    // The rate while a backlog was left, after the warm-up (or from t0 when the backlog drained first).
    const windowEnd = Math.min(stoppedAt, drainedAt ?? stoppedAt)
    const windowStart = windowEnd - (t0 + warmMs) >= 10_000 ? t0 + warmMs : t0
    // Every connection, from the store: the seeded token expired at created_at + 2 h (a refresh
    // keeps created_at), so "refreshed before expiry" is checked row by row. Seeded rows have no
    // last_refresh_at: one that has it was refreshed by a worker in this run.
    const expiry = `(c.created_at + ${LIFETIME_MS})`
    const { rows } = await db.query(
      `SELECT
         count(*)::int AS total,
         count(*) FILTER (WHERE c.last_refresh_at IS NOT NULL)::int AS refreshed,
         count(*) FILTER (WHERE c.last_refresh_at IS NOT NULL AND c.last_refresh_at > ${expiry})::int AS late,
         count(*) FILTER (WHERE c.last_refresh_at IS NULL AND ${expiry} <= $2)::int AS expired,
         count(*) FILTER (WHERE c.last_refresh_at IS NULL AND ${expiry} - ${MARGIN_MS} <= $2)::int AS due_left,
         count(*) FILTER (WHERE ${expiry} - ${MARGIN_MS} <= $1)::int AS due_at_t0,
         count(*) FILTER (WHERE ${expiry} <= $2)::int AS expiring_in_run,
         count(*) FILTER (WHERE c.last_refresh_at >= $3 AND c.last_refresh_at < $4)::int AS in_window,
         min(${expiry} - c.last_refresh_at) FILTER (WHERE c.last_refresh_at IS NOT NULL) AS least_headroom,
         min(${expiry}) AS first_expiry,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY c.last_refresh_at - (${expiry} - ${MARGIN_MS}))
           FILTER (WHERE c.last_refresh_at IS NOT NULL AND ${expiry} - ${MARGIN_MS} >= $1) AS lag_p50,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY c.last_refresh_at - (${expiry} - ${MARGIN_MS}))
           FILTER (WHERE c.last_refresh_at IS NOT NULL AND ${expiry} - ${MARGIN_MS} >= $1) AS lag_p99
       FROM ${table} c WHERE c.name LIKE 's%'`,
      [t0, stoppedAt, windowStart, windowEnd],
    )
    const r = rows[0]
    const perSecond = r.in_window / ((windowEnd - windowStart) / 1000)
    const workerRefreshed = summaries.reduce((sum, s) => sum + (s.refreshed ?? 0), 0)
    const dueAtEnd = samples.at(-1).due
    return {
      n,
      workers,
      required,
      perSecond,
      ratio: perSecond / required,
      window: { fromS: (windowStart - t0) / 1000, toS: (windowEnd - t0) / 1000, refreshed: r.in_window },
      seeding: { ms: seedMs, rows: n, urgentRows: urgent, urgentMs: first.ms, t0LateMs: t0 - plannedT0 },
      tableBytes: size[0].bytes,
      stored: r.total,
      leadS: (Number(r.first_expiry) - t0) / 1000,
      runS: (stoppedAt - t0) / 1000,
      dueAtT0: r.due_at_t0,
      expiringInRun: r.expiring_in_run,
      refreshed: r.refreshed,
      expired: r.expired,
      late: r.late,
      dueLeft: r.due_left,
      leastHeadroomS: r.least_headroom === null ? null : Number(r.least_headroom) / 1000,
      lagAfterDueP50S: r.lag_p50 === null ? null : Number(r.lag_p50) / 1000,
      lagAfterDueP99S: r.lag_p99 === null ? null : Number(r.lag_p99) / 1000,
      drainedAfterS: drainedAt === undefined ? null : (drainedAt - t0) / 1000,
      // Not drained: what is left shrinks by (rate − arrivals) each second.
      projectedDrainS:
        drainedAt !== undefined
          ? null
          : perSecond > required
            ? (stoppedAt - t0) / 1000 + dueAtEnd / (perSecond - required)
            : Number.POSITIVE_INFINITY,
      samples: samples.map((s) => ({ atS: (s.at - t0) / 1000, due: s.due, refreshed: s.refreshed })),
      tokenRequests: (after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0),
      workerRefreshed,
      failed: summaries.reduce((sum, s) => sum + (s.failed ?? 0), 0),
      refused429: (after.overRateLimit ?? 0) - (before.overRateLimit ?? 0),
      peakInFlight: after.peakConcurrentTokenRequests,
      concurrencyPerApp: summaries.map((s) => s.concurrencyPerApp?.[APP] ?? null),
      exitCodes,
    }
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    await db.end()
    await emulator.close()
    await where.drop()
  }
}

/**
 * Whether a run kept every token fresh and counted straight: every row there, the store's
 * refreshes = the workers' = the platform's token requests, no failure, clean exits.
 */
export function keptFresh(run) {
  return (
    run.stored === run.n &&
    run.refreshed === run.workerRefreshed &&
    run.expired === 0 &&
    run.late === 0 &&
    run.failed === 0 &&
    run.tokenRequests === run.workerRefreshed &&
    run.exitCodes.every((code) => code === 0)
  )
}

/** The table note of a run: slice, settled concurrency, the expiry check, the steady state. */
export function fleetNote(run) {
  const limits = run.concurrencyPerApp
    .map((c) => (c ? `${c.limit} (${c.decreases} decreases)` : '?'))
    .join(', ')
  const steady =
    run.drainedAfterS !== null
      ? `backlog gone after ${Math.round(run.drainedAfterS)} s; then each connection refreshed p50 ${run.lagAfterDueP50S?.toFixed(1)} s / p99 ${run.lagAfterDueP99S?.toFixed(1)} s after due`
      : Number.isFinite(run.projectedDrainS)
        ? `backlog left at the end ${run.dueLeft}, gone after ~${Math.round(run.projectedDrainS)} s at this rate (projected), then the workers follow the arrivals of ${run.required.toFixed(0)}/s`
        : `backlog left at the end ${run.dueLeft} and growing: this rate is below the arrivals of ${run.required.toFixed(0)}/s`
  return (
    `seeded ${run.n.toLocaleString('en')} rows by COPY in ${(run.seeding.ms / 1000).toFixed(0)} s (table with indexes ${(run.tableBytes / 2 ** 20).toFixed(0)} MB); ` +
    `at t0 ${run.dueAtT0} due, first token expiring ${Math.round(run.leadS)} s later; ` +
    `rate over ${Math.round(run.window.fromS)}–${Math.round(run.window.toS)} s after t0 (${run.window.refreshed} refreshes); ` +
    `settled concurrency per worker ${limits}; peak token requests in flight ${run.peakInFlight}; ` +
    `${run.refreshed} refreshed in ${Math.round(run.runS)} s, ${run.expiringInRun} tokens reached expiry time in the run: ${run.expired} expired unrefreshed, ${run.late} refreshed late, least headroom ${run.leastHeadroomS?.toFixed(0)} s; ` +
    `${steady}; token requests ${run.tokenRequests} = refreshes ${run.workerRefreshed}${run.tokenRequests === run.workerRefreshed && run.failed === 0 ? '' : ' (MISMATCH or failures)'}`
  )
}
