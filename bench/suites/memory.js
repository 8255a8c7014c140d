// Measure 6, memory: the resident memory (VmRSS from /proc) of an idle `innkeeper serve` (the real
// CLI on a SQLite store, one API key in the environment, 2 s after it says it is serving) beside
// an idle bare `node:http` server, rounds alternating; and the memory of 10k cached connections:
// heap and RSS deltas, after GC, of loading 10k connections into a keeper's cache, beside a bare
// Map of 10k ids to the same access tokens (bench/children/cache-memory.js).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Innkeeper } from '../../dist/index.js'
import { interleave, median, rssOf, sleep } from '../lib/stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  CLI,
  connectOne,
  forkChild,
  postgresSchema,
  ROOT,
  seedClones,
  sqliteDir,
  startEmulatorProcess,
} from '../lib/world.js'

const SETTLE_MS = 2_000

async function idleServeRss(storeUrl) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--store', storeUrl], {
    env: { ...process.env, INNKEEPER_KEYS: BENCH_KEYS, INNKEEPER_API_KEYS: 'bench-memory-key' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    await new Promise((resolve, reject) => {
      let text = ''
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (chunk) => {
        text += chunk
        if (text.includes('Innkeeper serving on')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`innkeeper serve exited ${code}: ${text.slice(0, 500)}`)))
    })
    await sleep(SETTLE_MS)
    return rssOf(child.pid)
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

async function idleBareRss() {
  const bare = forkChild(join(ROOT, 'bench/children/bare-server.js'))
  try {
    await bare.ready
    await sleep(SETTLE_MS)
    return rssOf(bare.child.pid)
  } finally {
    await bare.close()
  }
}

export async function memory({ quick }) {
  const rows = []
  const raw = {}

  const sqlite = sqliteDir('memory')
  try {
    raw.idle = await interleave(quick ? 1 : 3, {
      serve: () => idleServeRss(sqlite.url),
      bare: () => idleBareRss(),
    })
  } finally {
    await sqlite.drop()
  }
  const serve = median(raw.idle.serve)
  const bare = median(raw.idle.bare)
  rows.push({
    id: 'memory.idleServe',
    measure: 'idle `innkeeper serve` RSS vs idle bare node:http',
    unit: 'bytes',
    subject: serve,
    baseline: bare,
    ratio: serve / bare,
    ratioMeaning: 'subject/baseline RSS',
    target: '—',
    informational: true,
  })

  const count = quick ? 2_000 : 10_000
  const emulator = await startEmulatorProcess()
  const where = postgresSchema('memory')
  const keeper = await Innkeeper.open({ store: where.url, keys: BENCH_KEYS, audit: false })
  try {
    await keeper.apps.add(APP, appSettings(emulator.info))
    const template = await keeper.store.getConnection(await connectOne(keeper, emulator, 'template'))
    await seedClones(keeper.store, template, { prefix: 'm', count, dueAt: Date.now() + 3_600_000 })
    const child = forkChild(join(ROOT, 'bench/children/cache-memory.js'), {
      env: { STORE: where.url, KEYS: BENCH_KEYS, PREFIX: `${APP}/m`, COUNT: String(count) },
      execArgv: ['--expose-gc'],
    })
    const { result } = await child.ready
    await child.close()
    raw.cache = result
  } finally {
    await keeper.close()
    await emulator.close()
    await where.drop()
  }
  const per10k = (bytes) => (bytes / raw.cache.connections) * 10_000
  rows.push(
    {
      id: 'memory.cache.heap',
      measure: 'keeper cache: heap per 10k cached connections vs Map of id→token',
      unit: 'bytes',
      subject: per10k(raw.cache.keeper.heapBytes),
      baseline: per10k(raw.cache.map.heapBytes),
      ratio: raw.cache.keeper.heapBytes / raw.cache.map.heapBytes,
      ratioMeaning: 'subject/baseline heap',
      target: '≤ 3×',
      met: raw.cache.keeper.heapBytes / raw.cache.map.heapBytes <= 3,
    },
    {
      id: 'memory.cache.rss',
      measure: 'keeper cache: RSS per 10k cached connections vs Map of id→token',
      unit: 'bytes',
      subject: per10k(raw.cache.keeper.rssBytes),
      baseline: per10k(raw.cache.map.rssBytes),
      ratio: raw.cache.keeper.rssBytes / raw.cache.map.rssBytes,
      ratioMeaning: 'subject/baseline RSS',
      target: '—',
      informational: true,
      note: `measured on ${raw.cache.connections} connections, after GC (--expose-gc); RSS deltas are coarse (pages the allocator keeps)`,
    },
  )
  return { raw, rows }
}
