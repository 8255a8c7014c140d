// A separate OS process that force-refreshes one connection (or, with ACTION=connect, connects an
// app by client credentials: ORGANIZATION; with ACTION=disconnect, disconnects CONNECTION) with
// the built library. The tests
// run it with INNKEEPER_TEST_CRASH_AFTER_COMMIT=1, which SIGKILLs it right after the new tokens
// are committed (before anything else can happen), to show the webhook event committed with them.
import { Innkeeper } from '../../dist/index.js'

const keeper = await Innkeeper.open({ store: process.env.STORE, keys: process.env.KEYS })
if (process.env.ACTION === 'connect')
  await keeper.connect(process.env.APP, { organizationId: process.env.ORGANIZATION, name: 'second' })
else if (process.env.ACTION === 'disconnect') await keeper.disconnect(process.env.CONNECTION)
else await keeper.connection(process.env.CONNECTION).refresh()
process.stdout.write('survived\n')
await keeper.close()
