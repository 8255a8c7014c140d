// The service under load for the token-API benchmark: `createServer()` (what `innkeeper serve`
// runs: security headers, rate limiting, API-key check, the request log to stdout) on the
// benchmark's SQLite store. The per-client rate limit (1,200 requests a minute by default) is
// raised so the benchmark measures the server, not the limiter. Reports its port over IPC.
import { Innkeeper } from '../../dist/index.js'
import { createServer } from '../../dist/server/index.js'

const keeper = await Innkeeper.open({ store: process.env.STORE, keys: process.env.KEYS })
const app = await createServer({ keeper, rateLimit: { apiPerMinute: 1_000_000_000 } })
await app.listen({ host: '127.0.0.1', port: 0 })
process.on('disconnect', async () => {
  await app.close()
  await keeper.close()
  process.exit(0)
})
process.send({ ready: true, port: app.server.address().port })
