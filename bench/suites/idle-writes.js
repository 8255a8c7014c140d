// Store writes per idle connection per day, by refresh policy (`refresh.proactive` of the provider
// definition): a small fleet of connections nobody uses, kept by the background refresher over
// simulated days. One clock moves the keeper and the in-process emulator together (10-minute
// rounds for 2-hour BookingSync tokens, 1-minute rounds for bookingtime's 5-minute ones), the
// worker runs one round per step, and every write of the store is counted (connection saves and
// lease writes; `countWrites`). The first
// day is left out (a new connection counts as used when it is made); the figure is the writes of
// the days after it, per connection per day. Counted, not timed: the machine's load does not
// change it. Memory store (the count of writes is the same in every driver).
import { BackgroundRefresher } from '../../dist/connections/refresher.js'
import { appSettingsFor, startEmulator } from '../../dist/emulators/index.js'
import { Innkeeper } from '../../dist/index.js'
import { BENCH_KEYS, connectOne } from '../lib/world.js'

const DAY = 86_400

const CASES = [
  { provider: 'bookingsync', proactive: 'always', stepSeconds: 600 },
  { provider: 'bookingsync', proactive: 'when-used-within', usedWithin: '24h', stepSeconds: 600 },
  { provider: 'bookingsync', proactive: 'on-use', stepSeconds: 600 },
  { provider: 'bookingtime', proactive: 'always', stepSeconds: 60 },
  { provider: 'bookingtime', proactive: 'on-use', stepSeconds: 60 },
]

/**
 * Counts the store's writes on `store` itself: connection saves, and lease writes (each lease
 * taken by a claim or a refresh, each release). Reads (an empty claim) are not writes.
 */
function countWrites(store) {
  const counted = { writes: 0, saves: 0 }
  const wrap = (name, weigh) => {
    const call = store[name].bind(store)
    store[name] = async (...args) => {
      const result = await call(...args)
      const n = weigh(result)
      counted.writes += n
      if (name === 'saveConnection') counted.saves += n
      return result
    }
  }
  wrap('saveConnection', () => 1)
  wrap('releaseLease', (released) => (released ? 1 : 0))
  wrap('acquireLease', (lease) => (lease ? 1 : 0))
  wrap('leaseConnection', (leased) => (leased.lease ? 1 : 0))
  wrap('claimDueConnections', (claimed) => claimed.length)
  return counted
}

/** Writes and token requests of `connections` idle connections over `days` simulated days. */
async function idleFleet(policy, { connections, days }) {
  const emulator = await startEmulator(policy.provider)
  let offset = 0
  const now = () => Date.now() + offset
  const refresh = {
    proactive: policy.proactive,
    ...(policy.usedWithin ? { usedWithin: policy.usedWithin } : {}),
  }
  const keeper = await Innkeeper.open({
    store: 'memory:',
    keys: BENCH_KEYS,
    audit: false,
    now,
    providers: [{ name: policy.provider, refresh }],
  })
  try {
    await keeper.apps.add('idle', { provider: policy.provider, ...appSettingsFor(emulator.info) })
    for (let i = 0; i < connections; i++) {
      if (policy.provider === 'bookingtime')
        await keeper.connect('idle', { name: `c${i}`, organizationId: emulator.info.organizationId })
      else await connectOne(keeper, emulator, `c${i}`, 'idle')
    }
    const { store } = keeper
    const counted = countWrites(store)
    const worker = new BackgroundRefresher(keeper, store, 'idle-bench')
    const perDay = []
    for (let day = 0; day < days; day++) {
      const before = { ...counted, refreshes: worker.stats.refreshed }
      for (let at = 0; at < DAY; at += policy.stepSeconds) {
        offset += policy.stepSeconds * 1000
        emulator.advance(policy.stepSeconds)
        await worker.runOnce()
      }
      perDay.push({
        writes: counted.writes - before.writes,
        saves: counted.saves - before.saves,
        refreshes: worker.stats.refreshed - before.refreshes,
      })
    }
    await worker.stop()
    const steady = perDay.slice(1)
    const sum = (key) => steady.reduce((total, item) => total + item[key], 0)
    return {
      perDay,
      writesPerConnectionDay: sum('writes') / steady.length / connections,
      savesPerConnectionDay: sum('saves') / steady.length / connections,
      refreshesPerConnectionDay: sum('refreshes') / steady.length / connections,
    }
  } finally {
    await keeper.close()
    await emulator.close()
  }
}

export async function idleWrites({ quick }) {
  const size = { connections: quick ? 2 : 5, days: quick ? 2 : 4 }
  const raw = {}
  for (const policy of CASES) {
    const label = `${policy.provider}.${policy.proactive}`
    raw[label] = { ...policy, ...(await idleFleet(policy, size)) }
  }
  const rows = []
  for (const [label, result] of Object.entries(raw)) {
    const always = raw[`${result.provider}.always`]
    const measure = `store writes per idle ${result.provider} connection per day, refresh.proactive ${result.proactive}${result.usedWithin ? ` (${result.usedWithin})` : ''}`
    rows.push({
      id: `idle.writes.${label}`,
      measure,
      unit: 'writes/day',
      subject: result.writesPerConnectionDay,
      baseline: always.writesPerConnectionDay,
      ratio:
        always.writesPerConnectionDay > 0
          ? result.writesPerConnectionDay / always.writesPerConnectionDay
          : null,
      ratioMeaning: 'subject/always',
      target: '—',
      informational: true,
      note: `${result.savesPerConnectionDay.toFixed(2)} of them connection saves, the rest lease writes; ${result.refreshesPerConnectionDay.toFixed(2)} refreshes per connection per day; ${size.connections} connections, days 2–${size.days} of ${size.days} simulated (${result.stepSeconds} s rounds)`,
    })
  }
  // The goal: an idle BookingSync connection under the built-in policy costs its keep-alive only.
  const builtIn = raw['bookingsync.when-used-within']
  rows.push({
    id: 'idle.writesPerDay',
    measure:
      'store writes per idle connection per day, BookingSync with its built-in policy (when-used-within 24h, keep-alive 24 h)',
    unit: 'writes/day',
    subject: builtIn.writesPerConnectionDay,
    baseline: raw['bookingsync.always'].writesPerConnectionDay,
    ratio: builtIn.writesPerConnectionDay / raw['bookingsync.always'].writesPerConnectionDay,
    ratioMeaning: 'subject/always',
    target: '≤ 3 (one keep-alive: claim, save, release)',
    met: builtIn.writesPerConnectionDay <= 3,
  })
  return { raw, rows }
}
