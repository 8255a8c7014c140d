// The INNKEEPER_HOME every test process and every child it spawns gets unless a test makes its
// own (test/support/cli.ts makeHome): a temporary directory of this run, removed at its end, so
// no test writes into the home of the person running them (a recovery journal left in
// ~/.innkeeper/recovery is read by every later process that opens a store of that kind).
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Read in vitest's main process (config and global set-up), so one directory per run. */
export const TEST_HOME = join(tmpdir(), `innkeeper-test-home-${process.pid}`)
