// One run of a fleet at real platform latency (issue 15's scale.real.* ids, and `scale-redis`):
// N connections with 2-hour tokens in a store, `workers` × `innkeeper worker`, the emulator's
// token endpoint at 150 ± 50 ms. The fleet is the worst it can be without a token having expired:
// it was kept in steady state (tokens obtained evenly over the last 6,600 s), then the workers
// were down until `leadMs` before the first token expires. At t0 they are back: (600 s − lead) ×
// N/6,600 connections are due at once and more fall due at N/6,600 per second, which is also the
// rate at which tokens expire. Measured: the refreshes/s the workers sustain while a backlog is
// left (after a warm-up), the concurrency their adaptive limits settled at, and from the store,
// for every connection, that none expired before it was refreshed (see docs/scaling.md).
//
// The store is a fleet store (`fleetStore(label, { lifetimeMs, marginMs })`: fleet-postgres.js,
// fleet-redis.js): { url, seed(clones) → { rows, ms } in bulk (bulk-seed.js), settle() after
// the bulk and before the workers start, bytes() its size now (table or server memory),
// seedNote(figures) the note's words on seeding and size, due(at) the backlog, check(times) the
// expiry figures of every seeded connection, drop() everything it made }.
//
// Seeding is in two parts so the times are right at t0 however long it takes: first the
// connections that fall due after the run, then the first `urgent` ones (the backlog and
// everything due until the end of the slice), anchored so the first token expires `leadMs`
// after they are written, which is t0 (the workers are already idling). The check does not
// depend on the anchors: each record's seeded expiry is its createdAt + 2 h.
import { performance } from 'node:perf_hooks'
import { Innkeeper } from '../../dist/index.js'
import { postgresFleetStore } from './fleet-postgres.js'
import { sleep } from './stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  connectOne,
  startEmulatorProcess,
  startWorker,
  waitFor,
} from './world.js'

export const LIFETIME_MS = 7_200_000
/** What the keeper keeps in reserve of a 2-hour token (src/connections/timing.ts: 10 %, at most 10 minutes). */
export const MARGIN_MS = 600_000
/** Each connection is refreshed once per lifetime minus margin: N/6,600 refreshes/s in steady state. */
export const STEADY_SECONDS = (LIFETIME_MS - MARGIN_MS) / 1000

/**
 * The one-worker run at N = 100,000 (scale.real.100000.1w, and the same on Redis): until the
 * backlog is gone and 20 s more, at most 150 s, the rate from 10 s after t0.
 */
export const oneWorkerFleet = (quick) => ({
  n: quick ? 2_000 : 100_000,
  workers: 1,
  warmMs: quick ? 2_000 : 10_000,
  sliceMs: quick ? 30_000 : 150_000,
  untilDrained: true,
  afterDrainMs: quick ? 5_000 : 20_000,
})

/** Workers' refreshes so far, from their `round` log lines (no store reads while they work). */
const refreshedSoFar = (procs) =>
  procs.reduce(
    (sum, p) => sum + p.lines.reduce((s, line) => s + (line.msg === 'round' ? line.refreshed : 0), 0),
    0,
  )

/**
 * Runs the fleet on `fleetStore` (PostgreSQL unless told). `warmMs`: time after t0 left out of
 * the rate (adaptive limits climbing); `sliceMs`: how long the workers run; `untilDrained`: stop
 * `afterDrainMs` after the backlog is gone (still within sliceMs). Answers everything measured;
 * throws on a broken setup.
 */
export async function runRealFleet({
  fleetStore = postgresFleetStore,
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
  const store = await fleetStore(label, { lifetimeMs: LIFETIME_MS, marginMs: MARGIN_MS })
  const procs = []
  let emulator
  try {
    emulator = await startEmulatorProcess({
      rotateRefreshTokens: false,
      reuseDetection: false,
      accessTokenTtl: LIFETIME_MS / 1000,
      latencyMs: 150,
      latencyJitterMs: 50,
    })
    const keeper = await Innkeeper.open({ store: store.url, keys: BENCH_KEYS, audit: false })
    let template
    try {
      await keeper.apps.add(APP, appSettings(emulator.info))
      template = await keeper.store.getConnection(await connectOne(keeper, emulator, 'template'))
    } finally {
      await keeper.close()
    }
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
    const bytesBefore = await store.bytes()
    const seedStart = performance.now()
    const seedingStartedAt = Date.now()
    let msPerRow = 0.1
    if (urgent < n) {
      // Anchored at a t0 guessed before seeding, 1 ms a row (slower than any seeding seen, so at
      // most a lull after the urgent rows, never an early expiry): none of these falls due in
      // the slice unless seeding takes over 3 minutes longer than that guess, none expires in
      // it unless over 13 minutes longer.
      const later = await store.seed({
        template,
        prefix: 's',
        from: urgent,
        count: n - urgent,
        fleet: fleet(seedingStartedAt + n),
      })
      msPerRow = later.ms / later.rows
      log(`seeded ${later.rows} later rows in ${later.ms} ms`)
    }
    await store.settle()
    const bytesLater = await store.bytes()
    for (let i = 0; i < workers; i++) procs.push(startWorker(store.url))
    await waitFor(
      'the workers to start',
      () => procs.every((p) => p.lines.some((line) => line.msg === 'worker started')),
      120_000,
    )
    const plannedT0 = Date.now() + Math.round(urgent * msPerRow * 1.3) + 1_000
    const first = await store.seed({ template, prefix: 's', count: urgent, fleet: fleet(plannedT0) })
    const t0 = Date.now()
    const seedMs = Math.round(performance.now() - seedStart)
    const bytesAtT0 = await store.bytes()
    log(`seeded ${first.rows} urgent rows in ${first.ms} ms (t0 ${t0 - plannedT0} ms after plan)`)
    const before = await emulator.stats()

    // The backlog (due and not refreshed) every 5 s: a walk of the due index, cheap next to the refreshes.
    const backlog = async () => {
      const at = Date.now()
      return { at, due: await store.due(at), refreshed: refreshedSoFar(procs) }
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
    // Every connection, from the store: the seeded token expired at createdAt + 2 h (a refresh
    // keeps createdAt), so "refreshed before expiry" is checked record by record. Seeded
    // records have no lastRefreshAt: one that has it was refreshed by a worker in this run.
    const r = await store.check({ t0, stoppedAt, windowStart, windowEnd })
    const perSecond = r.inWindow / ((windowEnd - windowStart) / 1000)
    const workerRefreshed = summaries.reduce((sum, s) => sum + (s.refreshed ?? 0), 0)
    const dueAtEnd = samples.at(-1).due
    const laterRows = n - urgent
    return {
      n,
      workers,
      required,
      perSecond,
      ratio: perSecond / required,
      window: { fromS: (windowStart - t0) / 1000, toS: (windowEnd - t0) / 1000, refreshed: r.inWindow },
      seeding: {
        ms: seedMs,
        rows: n,
        urgentRows: urgent,
        urgentMs: first.ms,
        t0LateMs: t0 - plannedT0,
        note: store.seedNote({ rows: n, ms: seedMs, laterRows, bytesBefore, bytesLater, bytesAtT0 }),
      },
      storeBytes: { beforeSeeding: bytesBefore, afterLaterRows: bytesLater, laterRows, atT0: bytesAtT0 },
      stored: r.total,
      leadS: (r.firstExpiry - t0) / 1000,
      runS: (stoppedAt - t0) / 1000,
      dueAtT0: r.dueAtT0,
      expiringInRun: r.expiringInRun,
      refreshed: r.refreshed,
      expired: r.expired,
      late: r.late,
      dueLeft: r.dueLeft,
      leastHeadroomS: r.leastHeadroomMs === null ? null : r.leastHeadroomMs / 1000,
      lagAfterDueP50S: r.lagP50Ms === null ? null : r.lagP50Ms / 1000,
      lagAfterDueP99S: r.lagP99Ms === null ? null : r.lagP99Ms / 1000,
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
    await emulator?.close()
    await store.drop()
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
    `${run.seeding.note}; ` +
    `at t0 ${run.dueAtT0} due, first token expiring ${Math.round(run.leadS)} s later; ` +
    `rate over ${Math.round(run.window.fromS)}–${Math.round(run.window.toS)} s after t0 (${run.window.refreshed} refreshes); ` +
    `settled concurrency per worker ${limits}; peak token requests in flight ${run.peakInFlight}; ` +
    `${run.refreshed} refreshed in ${Math.round(run.runS)} s, ${run.expiringInRun} tokens reached expiry time in the run: ${run.expired} expired unrefreshed, ${run.late} refreshed late, least headroom ${run.leastHeadroomS?.toFixed(0)} s; ` +
    `${steady}; token requests ${run.tokenRequests} = refreshes ${run.workerRefreshed}${run.tokenRequests === run.workerRefreshed && run.failed === 0 ? '' : ' (MISMATCH or failures)'}`
  )
}
