// `innkeeper worker` as a command on the embedded SQLite store (cheap, no services needed):
// --help with an example, --once refreshing what is due and exiting 0 with a summary, bad
// options refused with the usage exit code.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { refreshLeaseKey } from '../../src/stores/store.js'
import { TEST_KEYS } from '../support/keeper.js'
import { CLI, connectMany, makeDue, startWorker, type World, world } from './harness.js'

const run = promisify(execFile)

describe('innkeeper worker on SQLite', () => {
  let w: World | undefined
  afterEach(async () => {
    await w?.dispose()
    w = undefined
  })

  it('explains itself with an example', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'worker', '--help'])
    expect(stdout).toContain('--lease-ms')
    expect(stdout).toContain('--once')
    expect(stdout).toMatch(/innkeeper worker --store postgres:\/\//)
  })

  it('refuses a bad option with the usage exit code', async () => {
    const failed = await run(process.execPath, [CLI, 'worker', '--store', 'memory:', '--concurrency', '0'], {
      env: { ...process.env, INNKEEPER_KEYS: TEST_KEYS },
    }).catch((error: { code: number; stderr: string }) => error)
    expect(failed).toMatchObject({ code: 2 })
    expect((failed as { stderr: string }).stderr).toContain('--concurrency')
  })

  it('--once refreshes the due connections, leaves the others, releases its leases and exits 0', async () => {
    w = await world('sqlite')
    const ids = await connectMany(w, 3)
    await makeDue(w.keeper, ids[0]!)
    await makeDue(w.keeper, ids[1]!)
    const before = await Promise.all(ids.map((id) => w!.keeper.store.getConnection(id)))
    const worker = startWorker(w.store.url, ['--once'])
    expect(await worker.exited).toEqual({ code: 0, signal: null })
    expect(worker.other).toEqual([])
    expect(worker.summary()).toMatchObject({ rounds: 1, claimed: 2, refreshed: 2, failed: 0, reason: 'once' })
    expect(worker.lines.find((line) => line.msg === 'round')).toMatchObject({ claimed: 2, refreshed: 2 })
    const after = await Promise.all(ids.map((id) => w!.keeper.store.getConnection(id)))
    expect(after[0]!.tokens?.accessToken).not.toBe(before[0]!.tokens?.accessToken)
    expect(after[1]!.tokens?.accessToken).not.toBe(before[1]!.tokens?.accessToken)
    expect(after[2]!.tokens?.accessToken).toBe(before[2]!.tokens?.accessToken)
    for (const id of ids) expect(await w.keeper.store.getLease(refreshLeaseKey(id), w.now())).toBeNull()
    expect(w.emulator.stats().tokenRequests.refresh_token).toBe(2)
    const printed = JSON.stringify(worker.lines)
    for (const record of [...before, ...after]) {
      expect(printed).not.toContain(record!.tokens!.accessToken)
      expect(printed).not.toContain(record!.tokens!.refreshToken)
    }
  })
})
