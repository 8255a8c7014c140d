// Acceptance tests for many workers on the real PostgreSQL and Redis (issue 7, "What must show"):
// the thundering herd, a worker killed while holding a lease, and clean shutdown. The 3-worker
// fleet keeping 1,000 short-lived connections fresh is in scale.test.ts, so the two heaviest
// files can run beside each other; every case asserts correctness, never speed.
import { describeOnStore } from './harness.js'
import { herdTests } from './herd.js'
import { killTests } from './kill.js'

for (const kind of ['postgres', 'redis'] as const) {
  await describeOnStore(kind, 'herd', () => herdTests(kind))
  await describeOnStore(kind, 'killed and stopped workers', () => killTests(kind))
}
