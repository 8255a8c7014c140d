// Bulk seeding of a PostgreSQL store for the scale benchmarks: copies of one real connection
// written with COPY FROM STDIN (pg-copy-streams) instead of one saveConnection each, which is what
// makes a million rows fit in a bench run. Every row is a real record: encoded by the store's own
// codec and sealed under its own id with the bench keys (in worker threads, one per core: the
// per-row AES-GCM is the slow part), so a worker opens and refreshes it like any other. Rows go
// into the store's own table with its indexes and constraints.
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Worker } from 'node:worker_threads'
import { from as copyFrom } from 'pg-copy-streams'
import { COPY_COLUMNS } from './clone-rows.js'
import { BENCH_KEYS } from './world.js'

const CHUNK_ROWS = 1_000

/** Sealing threads answering { id, start, end } with COPY text; `seal(start, end)` picks one. */
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
    worker.on('message', ({ id, text }) => {
      waiting.get(id)?.resolve(text)
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
 * COPYs clones [from, from + count) of `template` into `<schema>.innkeeper_connections` as
 * `<app>/<prefix>NNNNNN`, their token times given by `fleet` (see cloneTimes in clone-rows.js).
 * `db` is a connected pg.Client. Answers { rows, ms }.
 */
export async function copyClones(db, { schema, template, prefix, from = 0, count, fleet }) {
  const started = performance.now()
  const threads = sealingThreads(Math.max(1, availableParallelism()), {
    keys: BENCH_KEYS,
    template,
    prefix,
    fleet,
  })
  // Chunks sealed a few ahead of the COPY stream, in order; memory stays at a few MB.
  async function* text() {
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
    const copy = db.query(
      copyFrom(`COPY "${schema}".innkeeper_connections (${COPY_COLUMNS.join(', ')}) FROM STDIN`),
    )
    await pipeline(Readable.from(text()), copy)
  } finally {
    await threads.close()
  }
  return { rows: count, ms: Math.round(performance.now() - started) }
}
