// A separate OS process that asks the built library for a connection's access token with many
// concurrent callers, and prints the distinct tokens it received as JSON.
import { Innkeeper } from '../../dist/index.js'

const offset = Number(process.env.OFFSET_MS ?? 0)
const keeper = await Innkeeper.open({
  store: process.env.STORE,
  keys: process.env.KEYS,
  now: () => Date.now() + offset,
})
const callers = Number(process.env.CALLERS ?? 1)
const connection = keeper.connection(process.env.CONNECTION)
const tokens = await Promise.all(Array.from({ length: callers }, () => connection.accessToken()))
process.stdout.write(JSON.stringify([...new Set(tokens)]))
await keeper.close()
