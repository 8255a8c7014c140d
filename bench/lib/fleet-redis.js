// The Redis side of bench/lib/real-fleet.js: a unique key prefix on the Redis server (every key
// under it deleted at the end), the fleet written as the driver writes records (hsetClones in
// bulk-seed.js, with the driver's own key layout), the backlog from the `due` sorted set, the
// expiry check of every record read back in pipelines, and the server's `used_memory` (INFO
// memory) for what the records cost. The fleet store interface is described in real-fleet.js.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisDatabase } from '../../dist/stores/redis/database.js'
import { parseRedisUrl } from '../../dist/stores/redis/url.js'
import { hsetClones } from './bulk-seed.js'
import { cloneName } from './clone-rows.js'
import { percentileCont } from './stats.js'

export const REDIS_URL = process.env.INNKEEPER_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0'
const BATCH = 5_000

async function usedMemory(redis) {
  const info = await redis.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN)
}

/** UNLINKs every key under `prefix` (SCAN, so the server is never blocked long). */
async function deletePrefix(redis, prefix) {
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', BATCH)
    cursor = next
    if (keys.length > 0) deleted += await redis.unlink(...keys)
  } while (cursor !== '0')
  return deleted
}

export async function redisFleetStore(label, { lifetimeMs, marginMs }) {
  const prefix = `innkeeper-bench-${label}-${process.pid}-${randomBytes(3).toString('hex')}:`
  const url = new URL(REDIS_URL)
  url.searchParams.set('prefix', prefix)
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 })
  await redis.connect()
  const { keys } = new RedisDatabase(redis, parseRedisUrl(url.toString()))
  // The clones written so far ([0, count)) and the first bulk ([from, count)), for check and settle.
  const seeded = { from: 0, count: 0, app: undefined }
  let footprint
  return {
    url: url.toString(),
    async seed(clones) {
      if (seeded.count === 0) seeded.from = clones.from ?? 0
      seeded.count = Math.max(seeded.count, (clones.from ?? 0) + clones.count)
      seeded.app = clones.template.app
      return hsetClones(redis, keys, clones)
    },
    /** After the bulk, before the workers: the keys' own MEMORY USAGE, a cross-check of used_memory. */
    async settle() {
      const sample = Math.min(200, seeded.count - seeded.from)
      if (sample === 0) return
      const batch = redis.pipeline()
      for (let k = 0; k < sample; k++) {
        const i = seeded.from + Math.floor((k * (seeded.count - seeded.from)) / sample)
        batch.memory('USAGE', keys.connection(`${seeded.app}/${cloneName('s', i)}`), 'SAMPLES', 0)
      }
      for (const key of [keys.connections, keys.appConnections(seeded.app), keys.due])
        batch.memory('USAGE', key, 'SAMPLES', 0)
      const sizes = (await batch.exec()).map(([error, size]) => {
        if (error) throw error
        return Number(size)
      })
      const hashes = sizes.slice(0, sample)
      const perRecord = hashes.reduce((sum, size) => sum + size, 0) / Math.max(1, sample)
      footprint = {
        perRecordHash: perRecord,
        sampled: sample,
        sets: sizes.slice(sample),
        records: seeded.count - seeded.from,
      }
    },
    bytes: () => usedMemory(redis),
    seedNote: ({ rows, ms, laterRows, bytesBefore, bytesLater, bytesAtT0 }) => {
      const mb = (bytes) => (bytes / 2 ** 20).toFixed(1)
      const keysPer10k = footprint
        ? `; the keys' own MEMORY USAGE: record hash ${Math.round(footprint.perRecordHash)} bytes (mean of ${footprint.sampled}), ` +
          `all-connections set, app set and \`due\` ${footprint.sets.map((size) => mb(size)).join(' / ')} MB for ${footprint.records.toLocaleString('en')}, ` +
          `${mb(((footprint.perRecordHash * footprint.records + footprint.sets.reduce((a, b) => a + b, 0)) / footprint.records) * 10_000)} MB per 10,000`
        : ''
      const perTenK =
        laterRows > 0 ? `: ${mb(((bytesLater - bytesBefore) / laterRows) * 10_000)} MB per 10,000` : ''
      return (
        `seeded ${rows.toLocaleString('en')} records (hash, two sets, \`due\` member; pipelines of 1,000, \`due\` in one MULTI) in ${(ms / 1000).toFixed(0)} s; ` +
        `Redis used_memory +${mb(bytesAtT0 - bytesBefore)} MB for all at t0, ` +
        `+${mb(bytesLater - bytesBefore)} MB for the first ${laterRows.toLocaleString('en')} before any worker ran${perTenK}${keysPer10k}`
      )
    },
    /** Connections due and not refreshed at `at`: the `due` set holds only claimable ones. */
    due: (at) => redis.zcount(keys.due, '-inf', at),
    /** The expiry check of real-fleet.js (same figures as the PostgreSQL statement), record by record. */
    async check({ t0, stoppedAt, windowStart, windowEnd }) {
      const c = {
        total: 0,
        refreshed: 0,
        late: 0,
        expired: 0,
        dueLeft: 0,
        dueAtT0: 0,
        expiringInRun: 0,
        inWindow: 0,
        leastHeadroomMs: null,
        firstExpiry: null,
      }
      const lags = []
      const min = (a, b) => (a === null ? b : Math.min(a, b))
      for (let start = 0; start < seeded.count; start += BATCH) {
        const batch = redis.pipeline()
        const end = Math.min(seeded.count, start + BATCH)
        for (let i = start; i < end; i++)
          batch.hmget(keys.connection(`${seeded.app}/${cloneName('s', i)}`), 'createdAt', 'lastRefreshAt')
        for (const [error, fields] of await batch.exec()) {
          if (error) throw error
          const [createdAt, lastRefreshAt] = fields
          if (createdAt === null) continue
          const expiry = Number(createdAt) + lifetimeMs
          const dueAt = expiry - marginMs
          const refreshedAt = lastRefreshAt === null ? null : Number(lastRefreshAt)
          c.total++
          c.firstExpiry = min(c.firstExpiry, expiry)
          if (dueAt <= t0) c.dueAtT0++
          if (expiry <= stoppedAt) c.expiringInRun++
          if (refreshedAt === null) {
            if (expiry <= stoppedAt) c.expired++
            if (dueAt <= stoppedAt) c.dueLeft++
            continue
          }
          c.refreshed++
          if (refreshedAt > expiry) c.late++
          if (refreshedAt >= windowStart && refreshedAt < windowEnd) c.inWindow++
          c.leastHeadroomMs = min(c.leastHeadroomMs, expiry - refreshedAt)
          if (dueAt >= t0) lags.push(refreshedAt - dueAt)
        }
      }
      return { ...c, lagP50Ms: percentileCont(lags, 0.5), lagP99Ms: percentileCont(lags, 0.99) }
    },
    async drop() {
      try {
        await deletePrefix(redis, prefix)
      } finally {
        await redis.quit().catch(() => redis.disconnect())
      }
    },
  }
}
