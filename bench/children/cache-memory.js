// The cached-connections memory benchmark, run with --expose-gc (bench/suites/memory.js): opens
// the built library on a PostgreSQL store holding CONNECTIONS seeded connections, measures heap
// and RSS after GC, asks for every connection's access token (each record is then in the
// keeper's cache), measures again; then the baseline: a bare Map of as many ids to the same
// tokens. Answers the deltas over IPC.
import { loadKeyring } from '../../dist/crypto/load.js'
import { Innkeeper } from '../../dist/index.js'
import { openPostgresStore } from '../../dist/stores/postgres/store.js'

const gc = globalThis.gc
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const { heapUsed, rss } = process.memoryUsage()
  return { heapUsed, rss }
}

const keyring = loadKeyring({ keys: process.env.KEYS })
const store = await openPostgresStore(process.env.STORE, { keyring })
const keeper = await Innkeeper.open({ store, keyring, audit: false })
const count = Number(process.env.COUNT)
const ids = Array.from({ length: count }, (_, i) => `${process.env.PREFIX}${String(i).padStart(6, '0')}`)
// Warm the code paths on one connection so the deltas are data, not compiled code.
await keeper.connection(ids[0]).accessToken()

const before = await settle()
for (let i = 0; i < ids.length; i += 100) {
  await Promise.all(ids.slice(i, i + 100).map((id) => keeper.connection(id).accessToken()))
}
const cached = await settle()

// The baseline: the least a cache of these tokens could hold, a Map of ids to access tokens
// (fresh copies of the strings, so nothing is shared with the keeper's records).
const copy = (text) => Buffer.from(text, 'utf8').toString('utf8')
const map = new Map()
for (const id of ids) map.set(copy(id), copy(await keeper.connection(id).accessToken()))
const withMap = await settle()

process.send({
  ready: true,
  result: {
    connections: ids.length,
    keeper: { heapBytes: cached.heapUsed - before.heapUsed, rssBytes: cached.rss - before.rss },
    map: { heapBytes: withMap.heapUsed - cached.heapUsed, rssBytes: withMap.rss - cached.rss },
    mapSize: map.size,
  },
})
await keeper.close()
await store.close()
process.exit(0)
