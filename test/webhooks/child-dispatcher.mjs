// A separate OS process that runs the built library's webhook dispatcher on a store until it is
// killed (the SIGKILL test kills it while a delivery is in flight).
import { Innkeeper } from '../../dist/index.js'

const keeper = await Innkeeper.open({ store: process.env.STORE, keys: process.env.KEYS })
keeper.startWebhookDispatcher({ leaseMs: Number(process.env.LEASE_MS ?? 60_000), idleMs: 20 })
process.stdout.write('ready\n')
