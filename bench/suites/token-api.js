// Measure 4, the token API of the service: `POST /api/connections/:id/token` (API key checked
// against its kept hash, token from the cache, one audit entry written per token handed out,
// security headers on every answer, successful answers counted in the log's summary line rather
// than a line each) at 64 concurrent keep-alive connections, beside a bare `node:http` server
// answering a fixed JSON body, driven by the same client. The service runs on SQLite (what
// `innkeeper serve` uses by default) and, for comparison, on PostgreSQL. Every server runs in its
// own process, the client in this one; rounds alternate the servers.
import { join } from 'node:path'
import { Innkeeper } from '../../dist/index.js'
import { createApiKey } from '../../dist/server/index.js'
import { load } from '../lib/load.js'
import { interleave, median } from '../lib/stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  connectOne,
  forkChild,
  postgresSchema,
  ROOT,
  sqliteDir,
  startEmulatorProcess,
} from '../lib/world.js'

const CONNECTIONS = 64

/** A connection and an API key in a store at `url`, then the service on it in its own process. */
async function startService(url, emulator) {
  const keeper = await Innkeeper.open({ store: url, keys: BENCH_KEYS })
  await keeper.apps.add(APP, appSettings(emulator.info))
  const id = await connectOne(keeper, emulator, 'api')
  const { key } = await createApiKey(keeper.store, 'bench')
  await keeper.close()
  const proc = forkChild(join(ROOT, 'bench/children/token-server.js'), {
    env: { STORE: url, KEYS: BENCH_KEYS },
  })
  const { port } = await proc.ready
  return { proc, port, id, key }
}

export async function tokenApi({ quick }) {
  const emulator = await startEmulatorProcess()
  const stores = { sqlite: sqliteDir('api'), postgres: postgresSchema('api') }
  const started = []
  try {
    const sqlite = await startService(stores.sqlite.url, emulator)
    started.push(sqlite.proc)
    const postgres = await startService(stores.postgres.url, emulator)
    started.push(postgres.proc)
    const bare = forkChild(join(ROOT, 'bench/children/bare-server.js'))
    started.push(bare)
    const { port: barePort } = await bare.ready

    const durationMs = quick ? 1_000 : 3_000
    const hit = (port, service) => () =>
      load({
        port,
        path: `/api/connections/${service.id}/token`,
        method: 'POST',
        headers: { authorization: `Bearer ${service.key}` },
        connections: CONNECTIONS,
        durationMs,
      })
    const entries = {
      sqlite: hit(sqlite.port, sqlite),
      bare: hit(barePort, sqlite),
      postgres: hit(postgres.port, postgres),
    }
    // Warm-up (JIT, page caches, sockets).
    for (const run of Object.values(entries)) await run()
    const raw = await interleave(quick ? 2 : 3, entries)
    const figure = (name, field) => median(raw[name].map((r) => r[field]))
    const rows = []
    for (const [kind, label] of [
      ['sqlite', 'SQLite'],
      ['postgres', 'PostgreSQL'],
    ]) {
      const failed = raw[kind].some((r) => r.errors > 0 || Object.keys(r.statuses).some((s) => s !== '200'))
      const rps = figure(kind, 'perSecond')
      const bareRps = figure('bare', 'perSecond')
      // Issue 15's goals: SQLite ≥ 0.6×, PostgreSQL ≥ 0.5× of the bare server.
      const goal = kind === 'postgres' ? 0.5 : 0.6
      rows.push(
        {
          id: `api.${kind}.throughput`,
          measure: `token API on ${label}: req/s at ${CONNECTIONS} conns vs bare node:http`,
          unit: 'req/s',
          subject: rps,
          baseline: bareRps,
          ratio: rps / bareRps,
          ratioMeaning: 'subject/baseline throughput',
          target: `≥ ${goal}×`,
          met: rps / bareRps >= goal && !failed,
          note: failed ? `non-200 answers: ${JSON.stringify(raw[kind].map((r) => r.statuses))}` : undefined,
        },
        ...['p50', 'p99'].map((field) => ({
          id: `api.${kind}.${field}`,
          measure: `token API on ${label}: ${field} latency (ms)`,
          unit: 'ms',
          subject: figure(kind, field),
          baseline: figure('bare', field),
          ratio: figure(kind, field) / figure('bare', field),
          ratioMeaning: 'subject/baseline latency',
          target: '—',
        })),
      )
    }
    return { raw, rows }
  } finally {
    for (const proc of started) await proc.close()
    await emulator.close()
    for (const store of Object.values(stores)) await store.drop()
  }
}
