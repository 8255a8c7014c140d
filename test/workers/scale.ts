// Scale (issue 7, "What must show"): 3 `innkeeper worker` processes keep 1,000 BookingSync
// connections with short-lived access tokens fresh until every connection was refreshed at
// least twice, while a monitor reads every connection twice a second and a probe calls the
// API with random ones. It asserts correctness only, never speed (CI shares 2 busy cores; how
// fast belongs in `npm run bench`): no refresh token was presented twice, no reuse, no
// invalid_grant, no refresh before its token was due, no refresh beyond the times a token
// became due, no unexpired token refused by the API, all connections active and fresh at the
// end, and all 3 workers did part of the work.
import { afterEach, expect, it } from 'vitest'
import { accessTokenDueAt } from '../../src/connections/refresh-policy.js'
import { tokenFingerprint } from '../../src/emulators/index.js'
import type { TokenSet } from '../../src/model/token-set.js'
import {
  connectMany,
  type StoreKind,
  startWorker,
  tokenWorks,
  type World,
  waitFor,
  world,
} from './harness.js'

const CONNECTIONS = 1_000
const WORKERS = 3
/** Generous enough that a loaded machine does not make workers late (due 15 s after issue). */
const TOKEN_TTL_S = 30
/** Refreshes every connection must have seen before the workers stop. */
const ROUNDS = 2
/** How long the run may take on a very busy machine; it normally ends after ~1 minute. */
const RUN_TIMEOUT_MS = 420_000
const MONITOR_EVERY_MS = 500
const PROBE_EVERY_MS = 100
const PROBES_PER_TICK = 3

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Observed {
  /** Every token set seen, by access token. */
  versions: Map<string, TokenSet>
  /** Every refresh token seen (current and previous). */
  refreshTokens: Set<string>
}

export function scaleTests(kind: StoreKind): void {
  let w: World | undefined
  afterEach(async () => {
    await w?.dispose()
    w = undefined
  })

  it(
    `${WORKERS} workers keep ${CONNECTIONS} connections with ${TOKEN_TTL_S}-second tokens fresh`,
    async () => {
      w = await world(kind, { emulator: { accessTokenTtl: TOKEN_TTL_S, reuseDetection: true } })
      const workers = Array.from({ length: WORKERS }, () =>
        startWorker(w!.store.url, ['--concurrency', '32', '--batch', '100', '--idle-ms', '200']),
      )
      await waitFor('the workers to start', () =>
        workers.every((worker) => worker.lines.some((line) => line.msg === 'worker started')),
      )
      const store = w.keeper.store
      // The monitor runs from before the first connection exists, so it sees every token version.
      const observed = new Map<string, Observed>()
      const expiredSeen: string[] = []
      const observe = (id: string, tokens: TokenSet | null, previous: string | undefined, state?: string) => {
        const seen = observed.get(id) ?? { versions: new Map(), refreshTokens: new Set() }
        observed.set(id, seen)
        if (tokens?.accessToken) seen.versions.set(tokens.accessToken, tokens)
        if (tokens?.refreshToken) seen.refreshTokens.add(tokens.refreshToken)
        if (previous) seen.refreshTokens.add(previous)
        // A late refresh on a busy machine is slowness, not an error; a token that never expires is.
        if (!tokens?.expiresAt) expiredSeen.push(`${id} (${state}, no expiry)`)
      }
      let running = true
      let monitorReads = 0
      const monitor = (async () => {
        while (running) {
          for (const record of await store.listConnections())
            observe(record.id, record.tokens, record.previousRefreshToken, record.state)
          monitorReads += 1
          await sleep(MONITOR_EVERY_MS)
        }
      })()
      const runStart = Date.now()
      const ids = await connectMany(w, CONNECTIONS, 50)
      const setupMs = Date.now() - runStart
      const probe = { samples: 0, rejected: [] as string[] }
      const prober = (async () => {
        while (running) {
          await Promise.all(
            Array.from({ length: PROBES_PER_TICK }, async () => {
              const id = ids[Math.floor(Math.random() * ids.length)]!
              const record = await store.getConnection(id)
              observe(id, record?.tokens ?? null, record?.previousRefreshToken, record?.state)
              probe.samples += 1
              const works = await tokenWorks(w!, record!.tokens!.accessToken!)
              // Only a token refused well before its own expiry is wrong (a late refresh is not).
              if (!works && (record!.tokens!.expiresAt ?? 0) > Date.now() + 2_000) probe.rejected.push(id)
            }),
          )
          await sleep(PROBE_EVERY_MS)
        }
      })()

      await waitFor(
        `every connection to be refreshed ${ROUNDS} times`,
        () => {
          const counts = Object.values(w!.emulator.stats().refreshesByFamily)
          return counts.length === CONNECTIONS && counts.every((count) => count >= ROUNDS)
        },
        RUN_TIMEOUT_MS,
        500,
      )
      const stopAt = Date.now()
      for (const worker of workers) worker.child.kill('SIGTERM')
      const exits = await Promise.all(workers.map((worker) => worker.exited))
      running = false
      await Promise.all([monitor, prober])
      for (const record of await store.listConnections())
        observe(record.id, record.tokens, record.previousRefreshToken, record.state)

      const stats = w.emulator.stats()
      const refreshRequests = stats.tokenRequests.refresh_token ?? 0
      // Per connection: refreshes the emulator counted (each presentation of one of its refresh
      // tokens) against the times one of its access tokens reached its refresh margin during the run.
      const mismatched: string[] = []
      const early: string[] = []
      let attributed = 0
      let dues = 0
      for (const [id, seen] of observed) {
        const refreshes = [...seen.refreshTokens].reduce(
          (sum, token) => sum + (stats.refreshesByToken[tokenFingerprint(token)] ?? 0),
          0,
        )
        attributed += refreshes
        const versions = [...seen.versions.values()].sort((a, b) => a.obtainedAt - b.obtainedAt)
        const due = versions.filter(
          (tokens) => (accessTokenDueAt(tokens) ?? Number.POSITIVE_INFINITY) <= stopAt,
        ).length
        dues += due
        // Never more refreshes than times a token became due (one may be in flight at the stop).
        if (refreshes > due + 1) mismatched.push(`${id}: ${refreshes} refreshes for ${due} expiries`)
        // Nobody refreshed a token before it was due (which is what a second refresh would look like).
        for (let i = 1; i < versions.length; i++) {
          if (versions[i]!.obtainedAt < accessTokenDueAt(versions[i - 1]!)!) early.push(id)
        }
      }
      const perWorker = workers.map((worker) => worker.summary()?.refreshed as number)
      const failedPerWorker = workers.map((worker) => worker.summary()?.failed as number)
      process.stderr.write(
        `[scale ${kind}] set-up of ${CONNECTIONS} connections ${setupMs} ms; run ${stopAt - runStart} ms; ` +
          `refresh requests ${refreshRequests} (attributed ${attributed}, expiries ${dues}); per worker ${perWorker.join('/')} (failed ${failedPerWorker.join('/')}); ` +
          `monitor reads ${monitorReads}, probes ${probe.samples}; peak concurrent token requests ${stats.peakConcurrentTokenRequests}\n`,
      )

      expect(exits.every((exit) => exit.code === 0)).toBe(true)
      expect(stats.maxUsesOfOneRefreshToken).toBe(1)
      expect(stats.reuseDetected).toBe(0)
      expect(stats.familiesRevoked).toBe(0)
      expect(stats.tokenErrors.invalid_grant ?? 0).toBe(0)
      expect(Object.keys(stats.refreshesByFamily)).toHaveLength(CONNECTIONS)
      // Every refresh is accounted for by some connection's chain (the monitor saw every version).
      expect(attributed).toBe(refreshRequests)
      expect(mismatched).toEqual([])
      expect(early).toEqual([])
      expect(Object.values(stats.refreshesByFamily).every((count) => count >= ROUNDS)).toBe(true)
      expect(expiredSeen).toEqual([])
      expect(probe.samples).toBeGreaterThan(0)
      expect(probe.rejected).toEqual([])
      expect(perWorker.every((count) => count > 0)).toBe(true)
      expect(failedPerWorker).toEqual(workers.map(() => 0))
      expect(perWorker.reduce((sum, count) => sum + count, 0)).toBe(refreshRequests)
      const records = await store.listConnections()
      expect(records.every((record) => record.state === 'active')).toBe(true)
      // All eventually fresh: a worker started after the run brings any late connection up to date.
      const last = startWorker(w.store.url, ['--concurrency', '32', '--batch', '100', '--idle-ms', '200'])
      await waitFor(
        'every connection to hold an unexpired token',
        async () =>
          (await store.listConnections()).every(
            (record) => record.state === 'active' && (record.tokens?.expiresAt ?? 0) > Date.now(),
          ),
        RUN_TIMEOUT_MS,
        500,
      )
      await waitFor('the last worker to start', () =>
        last.lines.some((line) => line.msg === 'worker started'),
      )
      last.child.kill('SIGTERM')
      expect((await last.exited).code).toBe(0)
      const after = w.emulator.stats()
      expect(after.maxUsesOfOneRefreshToken).toBe(1)
      expect(after.reuseDetected).toBe(0)
      expect(after.tokenErrors.invalid_grant ?? 0).toBe(0)
    },
    2 * RUN_TIMEOUT_MS + 120_000,
  )
}
