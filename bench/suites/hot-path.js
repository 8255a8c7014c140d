// Measure 1, the hot path: `conn.accessToken()` on a valid cached token beside a bare Map lookup
// (sync, and awaited: the floor for any promise-returning API), and `conn.fetch()` against the
// emulator's API beside a bare `fetch` with the same fixed headers. Both clients are Node's
// global fetch (undici) against an emulator in its own process; requests are sequential, so
// any per-call overhead of the client shows in full.
import { performance } from 'node:perf_hooks'
import { Innkeeper } from '../../dist/index.js'
import { interleave, median } from '../lib/stats.js'
import { APP, appSettings, BENCH_KEYS, connectOne, sqliteDir, startEmulatorProcess } from '../lib/world.js'

/** Calls `op` in batches until `minMs` have passed; answers operations per second. */
async function opsPerSecond(op, minMs, batch = 10_000) {
  let done = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < minMs) {
    await op(batch)
    done += batch
    elapsed = performance.now() - start
  }
  return done / (elapsed / 1000)
}

export async function hotPath({ quick }) {
  const emulator = await startEmulatorProcess()
  const dir = sqliteDir('hot')
  const keeper = await Innkeeper.open({ store: dir.url, keys: BENCH_KEYS })
  try {
    await keeper.apps.add(APP, appSettings(emulator.info))
    const id = await connectOne(keeper, emulator, 'hot')
    const conn = keeper.connection(id)
    const token = await conn.accessToken()
    const map = new Map([[id, token]])
    let sink = 0

    const rounds = quick ? 3 : 7
    const minMs = quick ? 100 : 250
    const tokenOps = {
      'conn.accessToken()': () =>
        opsPerSecond(async (n) => {
          for (let i = 0; i < n; i++) sink += (await conn.accessToken()).length
        }, minMs),
      'Map.get (sync)': () =>
        opsPerSecond(async (n) => {
          for (let i = 0; i < n; i++) sink += map.get(id).length
        }, minMs),
      'await Map.get': () =>
        opsPerSecond(async (n) => {
          for (let i = 0; i < n; i++) sink += (await map.get(id)).length
        }, minMs),
    }
    // Warm-up: let the JIT settle on every loop before anything is recorded.
    for (const run of Object.values(tokenOps)) await run()
    const tokenRounds = await interleave(rounds, tokenOps)

    const url = `${emulator.info.apiUrl}/accounts`
    const headers = { authorization: `Bearer ${token}`, accept: 'application/vnd.api+json' }
    const requests = quick ? 100 : 300
    const fetchOps = {
      'conn.fetch()': async () => {
        const start = performance.now()
        for (let i = 0; i < requests; i++) {
          const response = await conn.fetch('/accounts')
          sink += (await response.arrayBuffer()).byteLength
        }
        return requests / ((performance.now() - start) / 1000)
      },
      'bare fetch': async () => {
        const start = performance.now()
        for (let i = 0; i < requests; i++) {
          const response = await fetch(url, { headers })
          sink += (await response.arrayBuffer()).byteLength
        }
        return requests / ((performance.now() - start) / 1000)
      },
    }
    for (const run of Object.values(fetchOps)) await run()
    const fetchRounds = await interleave(rounds, fetchOps)
    const stats = await emulator.stats()
    if (sink === 42) console.log('')

    const m = (rounds, name) => median(rounds[name])
    const accessToken = m(tokenRounds, 'conn.accessToken()')
    const mapSync = m(tokenRounds, 'Map.get (sync)')
    const mapAwait = m(tokenRounds, 'await Map.get')
    const connFetch = m(fetchRounds, 'conn.fetch()')
    const bareFetch = m(fetchRounds, 'bare fetch')
    return {
      raw: { accessToken: tokenRounds, fetch: fetchRounds, emulatorApiRequests: stats.apiRequests },
      rows: [
        {
          id: 'hot.accessToken',
          measure: 'accessToken() ops/s vs Map.get (sync)',
          unit: 'ops/s',
          subject: accessToken,
          baseline: mapSync,
          ratio: mapSync / accessToken,
          ratioMeaning: 'baseline/subject (×slower)',
          target: '≤ 2×',
          met: mapSync / accessToken <= 2,
        },
        {
          id: 'hot.accessToken.awaited',
          measure: 'accessToken() ops/s vs await Map.get (info)',
          unit: 'ops/s',
          subject: accessToken,
          baseline: mapAwait,
          ratio: mapAwait / accessToken,
          ratioMeaning: 'baseline/subject (×slower)',
          target: '(≤ 2×)',
          met: mapAwait / accessToken <= 2,
          informational: true,
        },
        {
          id: 'hot.fetch',
          measure: 'conn.fetch() req/s vs bare fetch (sequential)',
          unit: 'req/s',
          subject: connFetch,
          baseline: bareFetch,
          ratio: bareFetch / connFetch,
          ratioMeaning: 'baseline/subject (×slower)',
          target: '≤ 1.10×',
          met: bareFetch / connFetch <= 1.1,
        },
      ],
    }
  } finally {
    await keeper.close()
    await emulator.close()
    await dir.drop()
  }
}
