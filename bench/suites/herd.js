// Measure 3, the thundering herd: 10,000 concurrent callers on one expired token in one process,
// and the same 10,000 spread over 8 processes (1,250 each), all on one PostgreSQL store with the
// emulator rotating refresh tokens and detecting reuse. Asserts exactly one token request per
// herd (and one distinct token, no errors), and compares the herd's p99 wait with one refresh:
// a single caller on an expired token, measured the same way in the same rounds. Expiry is driven
// by the processes' clocks (every process moves 2 h ahead before each round, like the tests do),
// so they keep their warm store pools and resolved apps. Run with the
// emulator answering at once (0 ms) and with a 50 ms token endpoint, closer to real platforms.
// An informational row runs the 8 processes with one caller each: no herd, only what coordinating
// the processes costs on these cores, the floor under the 8-process herd.
import { join } from 'node:path'
import { Innkeeper } from '../../dist/index.js'
import { interleave, median, percentile } from '../lib/stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  connectOne,
  forkChild,
  postgresSchema,
  ROOT,
  startEmulatorProcess,
} from '../lib/world.js'

const PROCESSES = 8
const CALLERS = 10_000

export async function herd({ quick }) {
  const emulator = await startEmulatorProcess()
  const where = postgresSchema('herd')
  const keeper = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS })
  const children = []
  const checks = []
  try {
    await keeper.apps.add(APP, appSettings(emulator.info))
    const id = await connectOne(keeper, emulator, 'herd')
    for (let i = 0; i < PROCESSES; i++) {
      children.push(
        forkChild(join(ROOT, 'bench/children/herd.js'), { env: { STORE: where.url, KEYS: BENCH_KEYS } }),
      )
    }
    await Promise.all(children.map((child) => child.ready))

    let offsetMs = 0
    /** Expires the token, lets `processes` × `callers` ask for it, checks and answers the waits. */
    const run = async (label, processes, callers) => {
      offsetMs += 7_200_000
      const used = children.slice(0, processes)
      await Promise.all(used.map((child) => child.request('prepare', { callers, connection: id, offsetMs })))
      const before = await emulator.stats()
      const answers = await Promise.all(used.map((child) => child.request('go')))
      const after = await emulator.stats()
      const tokenRequests = (after.tokenRequests.total ?? 0) - (before.tokenRequests.total ?? 0)
      const tokens = new Set(answers.flatMap((answer) => answer.tokens))
      const errors = answers.reduce((all, answer) => {
        for (const [code, count] of Object.entries(answer.errors)) all[code] = (all[code] ?? 0) + count
        return all
      }, {})
      const waits = answers.flatMap((answer) => answer.waits)
      checks.push({ label, processes, callers, tokenRequests, distinctTokens: tokens.size, errors })
      return {
        p50: percentile(waits, 50),
        p99: percentile(waits, 99),
        max: percentile(waits, 100),
        // The slowest process's time to issue its calls, and the CPU time of all processes.
        issuedMs: Math.max(...answers.map((answer) => answer.issuedMs)),
        cpuMs: answers.reduce((sum, answer) => sum + answer.cpuMs, 0),
      }
    }

    const rounds = quick ? 2 : 3
    const callers = quick ? 2_000 : CALLERS
    const byLatency = {}
    for (const latencyMs of [0, 50]) {
      await emulator.configure({ latencyMs })
      const entries = {
        // One refresh: the median of three single callers (one alone is at the mercy of a hiccup).
        single: async () => {
          const waits = []
          for (let i = 0; i < 3; i++) waits.push((await run(`single @${latencyMs}ms`, 1, 1)).p50)
          const p50 = median(waits)
          return { p50, p99: p50, max: Math.max(...waits), singles: waits }
        },
        oneProcess: () => run(`1×${callers} @${latencyMs}ms`, 1, callers),
        eightProcesses: () =>
          run(`${PROCESSES}×${callers / PROCESSES} @${latencyMs}ms`, PROCESSES, callers / PROCESSES),
        // No herd at all: one caller per process, only the coordination across processes (each
        // one's read, lease attempt, wake-up and re-read) on the same cores: the floor under
        // `eightProcesses`.
        eightOneEach: () => run(`${PROCESSES}×1 @${latencyMs}ms`, PROCESSES, 1),
      }
      await entries.single()
      await entries.eightProcesses()
      byLatency[latencyMs] = await interleave(rounds, entries)
    }
    await emulator.configure({ latencyMs: 0 })

    const bad = checks.filter(
      (check) =>
        check.tokenRequests !== 1 || check.distinctTokens !== 1 || Object.keys(check.errors).length > 0,
    )
    const exactlyOne = bad.length === 0
    const herds = checks.filter((check) => check.callers > 1)
    const rows = []
    for (const [latencyMs, raw] of Object.entries(byLatency)) {
      const one = median(raw.single.map((wait) => wait.p50))
      for (const [key, label, calls, informational] of [
        ['oneProcess', `1 process × ${callers}`, callers, false],
        ['eightProcesses', `${PROCESSES} processes × ${callers / PROCESSES}`, callers, false],
        ['eightOneEach', `${PROCESSES} processes × 1 (coordination only, no herd)`, PROCESSES, true],
      ]) {
        const p99 = median(raw[key].map((wait) => wait.p99))
        const issuedMs = median(raw[key].map((wait) => wait.issuedMs))
        const cpuMs = median(raw[key].map((wait) => wait.cpuMs))
        rows.push({
          id: `herd.${key}.${latencyMs}ms`,
          measure: `herd ${label}, token endpoint ${latencyMs} ms: p99 wait vs one refresh (ms)`,
          unit: 'ms',
          subject: p99,
          baseline: one,
          ratio: p99 / one,
          ratioMeaning: 'subject/baseline latency',
          target: '≤ 3×',
          met: p99 / one <= 3,
          ...(informational ? { informational: true } : {}),
          // What the wait is made of: callers are issued in one go (nothing resolves before the
          // last is issued), then one refresh, then every caller's promise resolves.
          note: `issuing the ${calls} calls took ${issuedMs.toFixed(1)} ms (slowest process), CPU ${cpuMs.toFixed(0)} ms per herd (all processes), one refresh ${one.toFixed(1)} ms`,
        })
      }
    }
    rows.push({
      id: 'herd.tokenRequests',
      measure: `herd: token requests per herd (${herds.length} herds, ${checks.length - herds.length} singles)`,
      subject: exactlyOne ? 1 : `${herds.map((check) => check.tokenRequests).join('/')}`,
      target: 'exactly 1',
      met: exactlyOne,
      note: exactlyOne
        ? 'every herd: one token request, one distinct token, no errors'
        : `violations: ${JSON.stringify(bad)}`,
    })
    return { raw: { byLatency, checks, callers, processes: PROCESSES }, rows }
  } finally {
    await Promise.all(children.map((child) => child.close()))
    await keeper.close()
    await emulator.close()
    await where.drop()
  }
}
