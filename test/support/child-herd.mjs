// A separate OS process for the thundering-herd test: opens the BUILT library on the test's store
// with the test's clock offset, says "ready" on stdout, waits for "go" on stdin, then lets CALLERS
// concurrent callers each ask for the access token of every connection in CONNECTIONS (comma
// separated). Prints, as one JSON line, the distinct tokens it received per connection and any
// errors (codes only). Tokens go only to the parent test over the pipe, never to a log.
import { loadKeyring } from '../../dist/crypto/load.js'
import { Innkeeper } from '../../dist/index.js'
import { openStore } from '../../dist/stores/open.js'
import { openPostgresStore } from '../../dist/stores/postgres/store.js'

const offset = Number(process.env.OFFSET_MS ?? 0)
const url = process.env.STORE
const keyring = loadKeyring({ keys: process.env.KEYS })
// Eight of these share one PostgreSQL with the test: a small pool each.
const store = url.startsWith('postgres')
  ? await openPostgresStore(url, { keyring, maxConnections: 4 })
  : await openStore(url, { keyring })
const keeper = await Innkeeper.open({ store, keyring, now: () => Date.now() + offset })
const callers = Number(process.env.CALLERS ?? 1)
const ids = process.env.CONNECTIONS.split(',')

process.stdout.write('ready\n')
await new Promise((resolve) => process.stdin.once('data', resolve))

const tokens = Object.fromEntries(ids.map((id) => [id, new Set()]))
const errors = {}
const shuffled = () => [...ids].sort(() => Math.random() - 0.5)
await Promise.all(
  Array.from({ length: callers }, () =>
    Promise.all(
      shuffled().map(async (id) => {
        try {
          tokens[id].add(await keeper.connection(id).accessToken())
        } catch (error) {
          const key = `${error?.code ?? 'unexpected'}: ${error?.message ?? ''}`.slice(0, 300)
          errors[key] = (errors[key] ?? 0) + 1
        }
      }),
    ),
  ),
)
process.stdout.write(
  `${JSON.stringify({ tokens: Object.fromEntries(Object.entries(tokens).map(([id, set]) => [id, [...set]])), errors })}\n`,
)
await keeper.close()
await store.close()
process.stdin.destroy()
