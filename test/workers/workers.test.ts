// Acceptance tests for many workers on the real PostgreSQL and Redis (issue 7, "What must show"):
// the thundering herd, a worker killed while holding a lease, clean shutdown, and 3 workers
// keeping 1,000 short-lived connections fresh. One file, so these heavy scenarios never run in
// parallel with each other (they spawn many OS processes on 2 cores); they assert correctness, not speed.
import { describeOnStore } from './harness.js'
import { herdTests } from './herd.js'
import { killTests } from './kill.js'
import { scaleTests } from './scale.js'

for (const kind of ['postgres', 'redis'] as const) {
  await describeOnStore(kind, 'herd', () => herdTests(kind))
  await describeOnStore(kind, 'killed and stopped workers', () => killTests(kind))
}

await describeOnStore('postgres', 'scale', () => scaleTests('postgres'))
await describeOnStore('redis', 'scale', () => scaleTests('redis'))
