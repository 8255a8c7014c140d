// scale.real.100000.1w on Redis (opt-in: `node bench/run.js --suite scale-redis`, not part of
// `npm run bench`): the same fleet as on PostgreSQL (bench/lib/real-fleet.js: one worker,
// N = 100,000 connections with 2-hour tokens, token endpoint 150 ± 50 ms, the fleet as after a
// 10-minute outage, until the backlog is gone and 20 s more), in a Redis store under a unique key
// prefix that is deleted afterwards (bench/lib/fleet-redis.js). Records are written in bulk as
// the driver writes them (its codec and key layout). Informational rows, no goal id:
// - scale.redis.100000.1w: refreshes/s while a backlog was left against N/6,600, with the same
//   check of every connection (none expired, none refreshed late);
// - scale.redis.memory: Redis used_memory (INFO memory) per 10,000 connections, measured over the
//   records seeded before the worker starts. The server is shared: other clients' writes would
//   show in it (the note has the total at t0 beside it). BENCH_QUICK=1: N = 2,000.

import { redisFleetStore } from '../lib/fleet-redis.js'
import { fleetNote, keptFresh, oneWorkerFleet, runRealFleet } from '../lib/real-fleet.js'

export async function scaleRedis({ quick }) {
  const shape = oneWorkerFleet(quick)
  const run = await runRealFleet({
    fleetStore: redisFleetStore,
    label: 'scaleredis',
    ...shape,
    log: (line) => process.stderr.write(`[scale-redis] ${line}\n`),
  })
  const bytes = run.storeBytes
  const perTenK = ((bytes.afterLaterRows - bytes.beforeSeeding) / bytes.laterRows) * 10_000
  return {
    raw: { run },
    rows: [
      {
        id: 'scale.redis.100000.1w',
        informational: true,
        measure: `Redis store, 1 worker, N=${shape.n.toLocaleString('en')} 2-hour tokens, token endpoint 150±50 ms: sustained refreshes/s`,
        unit: '/s',
        subject: run.perSecond,
        baseline: run.required,
        ratio: run.ratio,
        ratioMeaning: 'refreshes/s while a backlog was left, over what N/6,600 requires',
        target: '≥ 3× (as on PostgreSQL), every connection refreshed before expiry',
        met: run.ratio >= 3 && keptFresh(run),
        note: fleetNote(run),
      },
      {
        id: 'scale.redis.memory',
        informational: true,
        measure: 'Redis store: used_memory per 10,000 connections (record hash, sets, `due` member)',
        unit: 'bytes',
        subject: perTenK,
        note: run.seeding.note,
      },
    ],
  }
}
