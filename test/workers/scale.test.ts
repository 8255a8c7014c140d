// Acceptance test (issue 7): 3 workers keep 1,000 connections with short-lived access tokens
// fresh on the real PostgreSQL and Redis. Its own file because it runs about a minute of wall
// time per store (two rounds of 30-second tokens), mostly waiting, so another file can run
// beside it. It asserts that nothing expired and every refresh was single, never a speed.
import { describeOnStore } from './harness.js'
import { scaleTests } from './scale.js'

await describeOnStore('postgres', 'scale', () => scaleTests('postgres'))
await describeOnStore('redis', 'scale', () => scaleTests('redis'))
