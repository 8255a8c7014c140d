// Bulk seeding of a store for the scale benchmarks: copies of one real connection written in
// bulk instead of one saveConnection each, which is what makes a million records fit in a bench
// run. Every record is a real one: encoded by the store's own codec and sealed under its own id
// with the bench keys (in worker threads, one per core: the per-record AES-GCM is the slow part),
// so a worker opens and refreshes it like any other. PostgreSQL: COPY FROM STDIN
// (pg-copy-streams) into the store's own table with its indexes and constraints. Redis: the
// driver's own keys (its key layout, RedisDatabase.keys), written in pipelines of a chunk each:
// the record hash, the all-connections and app-connections sets, the `due` sorted set (made
// claimable in one MULTI/EXEC at the end, as a COPY commits).
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Worker } from 'node:worker_threads'
import { from as copyFrom } from 'pg-copy-streams'
import { isClaimable } from '../../dist/stores/kit/claimable.js'
import { COPY_COLUMNS } from './clone-rows.js'
import { BENCH_KEYS } from './world.js'

const CHUNK_ROWS = 1_000

/** Sealing threads answering { id, start, end } with a chunk; `seal(start, end)` picks one. */
function sealingThreads(count, workerData) {
  const threads = Array.from({ length: count }, () => {
    const worker = new Worker(join(import.meta.dirname, 'seal-rows-thread.js'), { workerData })
    const waiting = new Map()
    let failure
    const fail = (error) => {
      failure ??= error
      for (const { reject } of waiting.values()) reject(error)
      waiting.clear()
    }
    worker.on('message', ({ id, chunk }) => {
      waiting.get(id)?.resolve(chunk)
      waiting.delete(id)
    })
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`a sealing thread exited (${code})`)))
    return { worker, waiting, fail: () => failure }
  })
  let next = 0
  return {
    /** Seals clones [start, end) on the least busy thread. */
    seal(start, end) {
      const thread = threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a))
      if (thread.fail()) return Promise.reject(thread.fail())
      const id = next++
      return new Promise((resolve, reject) => {
        thread.waiting.set(id, { resolve, reject })
        thread.worker.postMessage({ id, start, end })
      })
    },
    close: () => Promise.all(threads.map((t) => t.worker.terminate())),
  }
}

/**
 * Sealed chunks of clones [from, from + count) of `template` named `<prefix>NNNNNN`, their token
 * times given by `fleet` (see cloneTimes in clone-rows.js), in order, sealed a few chunks ahead
 * of `write(chunk)` (memory stays at a few MB). Answers { rows, ms }.
 */
async function sealClones({ template, prefix, from = 0, count, fleet, format }, write) {
  const started = performance.now()
  const threads = sealingThreads(Math.max(1, availableParallelism()), {
    keys: BENCH_KEYS,
    template,
    prefix,
    fleet,
    format,
  })
  async function* chunks() {
    const ahead = []
    let start = from
    const end = from + count
    const fill = () => {
      while (ahead.length < 8 && start < end) {
        const stop = Math.min(start + CHUNK_ROWS, end)
        const chunk = threads.seal(start, stop)
        chunk.catch(() => {})
        ahead.push(chunk)
        start = stop
      }
    }
    fill()
    while (ahead.length > 0) {
      const chunk = await ahead.shift()
      fill()
      yield chunk
    }
  }
  try {
    await write(chunks())
  } finally {
    await threads.close()
  }
  return { rows: count, ms: Math.round(performance.now() - started) }
}

/**
 * COPYs clones of `template` into `<schema>.innkeeper_connections` as `<app>/<prefix>NNNNNN`
 * (see sealClones). `db` is a connected pg.Client. Answers { rows, ms }.
 */
export function copyClones(db, { schema, ...clones }) {
  return sealClones({ ...clones, format: 'copy' }, (chunks) =>
    pipeline(
      Readable.from(chunks),
      db.query(copyFrom(`COPY "${schema}".innkeeper_connections (${COPY_COLUMNS.join(', ')}) FROM STDIN`)),
    ),
  )
}

/**
 * Writes clones of `template` into a Redis store as its driver does (see sealClones): `redis` an
 * ioredis client, `keys` the driver's key layout (RedisDatabase.keys). The hashes and sets go in
 * pipelines of a chunk each; the `due` members, which are what a worker claims from, all at the
 * end in one MULTI/EXEC, so the clones become claimable at once, as a COPY's rows do at its
 * commit (a worker never refreshes part of them early). Answers { rows, ms }.
 */
export function hsetClones(redis, keys, clones) {
  // Every clone has a due time (its refreshDueAt), so its state decides, as in the save script.
  const claimable = isClaimable(clones.template.state)
  return sealClones({ ...clones, format: 'hash' }, async (chunks) => {
    const due = []
    for await (const records of chunks) {
      const ids = records.map((record) => record.id)
      const batch = redis.pipeline()
      for (const record of records) batch.hset(keys.connection(record.id), ...record.fields)
      batch.sadd(keys.connections, ...ids)
      batch.sadd(keys.appConnections(clones.template.app), ...ids)
      for (const [error] of await batch.exec()) if (error) throw error
      if (claimable) due.push(records.flatMap((record) => [record.dueAt, record.id]))
    }
    if (due.length === 0) return
    const claimableAtOnce = redis.multi()
    for (const members of due) claimableAtOnce.zadd(keys.due, ...members)
    const results = await claimableAtOnce.exec()
    if (results === null) throw new Error('The MULTI that makes the clones claimable was aborted.')
    for (const [error] of results) if (error) throw error
  })
}
