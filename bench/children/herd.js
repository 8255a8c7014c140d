// One process of the thundering-herd benchmark (bench/suites/herd.js): opens the built library
// on the benchmark's PostgreSQL store once (warm pool, app resolved, JIT settled after the first
// round), and per round ('prepare' then 'go' over IPC) moves its clock to the round's offset (the
// cached token is then past its expiry) and lets `callers` concurrent callers ask for one
// connection's access token. Answers each caller's wait in ms from 'go', the distinct tokens
// (only to the parent, over IPC), error codes, how long issuing the calls took and the CPU time
// the process spent on the herd (what limits a herd, see the suite's notes).
import { performance } from 'node:perf_hooks'
import { loadKeyring } from '../../dist/crypto/load.js'
import { Innkeeper } from '../../dist/index.js'
import { openPostgresStore } from '../../dist/stores/postgres/store.js'

const keyring = loadKeyring({ keys: process.env.KEYS })
const store = await openPostgresStore(process.env.STORE, { keyring, maxConnections: 4 })
let offsetMs = 0
const keeper = await Innkeeper.open({ store, keyring, now: () => Date.now() + offsetMs })
let prepared

process.on('message', async (message) => {
  try {
    if (message.cmd === 'prepare') {
      offsetMs = message.arg.offsetMs
      prepared = message.arg
      process.send({ id: message.id, result: true })
      return
    }
    if (message.cmd === 'go') {
      const { callers, connection } = prepared
      const conn = keeper.connection(connection)
      const waits = new Float64Array(callers)
      const tokens = new Set()
      const errors = {}
      const cpu = process.cpuUsage()
      const start = performance.now()
      const all = Promise.all(
        Array.from({ length: callers }, async (_, i) => {
          try {
            tokens.add(await conn.accessToken())
          } catch (error) {
            const code = error?.code ?? 'unexpected'
            errors[code] = (errors[code] ?? 0) + 1
          }
          waits[i] = performance.now() - start
        }),
      )
      // How long issuing the calls held the event loop (nothing resolves before it is done).
      const issuedMs = performance.now() - start
      await all
      const used = process.cpuUsage(cpu)
      const cpuMs = (used.user + used.system) / 1000
      prepared = undefined
      process.send({
        id: message.id,
        result: { waits: Array.from(waits), tokens: [...tokens], errors, issuedMs, cpuMs },
      })
      return
    }
    throw new Error(`unknown command ${message.cmd}`)
  } catch (error) {
    process.send({ id: message.id, error: String(error?.message ?? error) })
  }
})
process.on('disconnect', async () => {
  await keeper.close()
  await store.close()
  process.exit(0)
})
process.send({ ready: true })
