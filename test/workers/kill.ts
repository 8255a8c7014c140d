// Workers that die or are stopped mid-refresh (issue 7, "What must show"): SIGTERM finishes the
// refresh in flight and leaves no lease; SIGKILL leaves a held lease that another worker takes
// over once it lapses, recovering with the previous refresh token when the provider keeps it
// valid for a grace period; and a lost token response (dropped after the provider committed)
// is recovered with grace, or ends in a visible `needs_reauth` without it.
import { afterEach, expect, it } from 'vitest'
import type { EmulatorConfigPatch } from '../../src/emulators/index.js'
import { tokenFingerprint } from '../../src/emulators/index.js'
import { type Lease, refreshLeaseKey } from '../../src/stores/store.js'
import {
  connectMany,
  makeDue,
  type StoreKind,
  startWorker,
  tokenWorks,
  type WorkerProcess,
  type World,
  waitFor,
  world,
} from './harness.js'

/** Token request time while a worker is to be caught mid-refresh; below LEASE_MS, as it must be. */
const SLOW_MS = 1_200
const LEASE_MS = 2_500

export function killTests(kind: StoreKind): void {
  let w: World | undefined
  afterEach(async () => {
    await w?.dispose()
    w = undefined
  })

  /** One due connection and one worker caught holding its lease with the token request in flight. */
  async function workerMidRefresh(emulator: EmulatorConfigPatch, args: string[] = []) {
    w = await world(kind, { emulator: { reuseDetection: true } })
    const [id] = await connectMany(w, 1)
    w.emulator.configure({ ...emulator, latencyMs: SLOW_MS })
    await makeDue(w.keeper, id!)
    const before = (await w.keeper.store.getConnection(id!))!
    const worker = startWorker(w.store.url, ['--idle-ms', '100', '--lease-ms', String(LEASE_MS), ...args])
    const lease = await waitFor('the worker to hold the lease with its token request in flight', async () => {
      const held = await w!.keeper.store.getLease(refreshLeaseKey(id!), w!.now())
      return held?.owner.includes(`:${worker.pid}:`) &&
        (w!.emulator.stats().tokenRequests.refresh_token ?? 0) >= 1
        ? held
        : undefined
    })
    return { id: id!, before, worker, lease }
  }

  /** Waits until the connection's record changed from `version` (a commit or a state change). */
  async function nextRecord(id: string, version: number, worker?: WorkerProcess) {
    try {
      return await waitFor(
        'the connection to be written',
        async () => {
          const record = await w!.keeper.store.getConnection(id)
          return record && record.version > version ? record : undefined
        },
        60_000,
        50,
      )
    } catch (error) {
      // Say what the worker and the store were doing (no secrets: states, leases, log lines).
      const record = await w!.keeper.store.getConnection(id)
      const lease = await w!.keeper.store.getLease(refreshLeaseKey(id), w!.now())
      throw new Error(
        `${(error as Error).message}; now ${w!.now()}, record v${record?.version} ${record?.state} due ${record?.refreshDueAt}, ` +
          `lease ${JSON.stringify(lease)}, emulator ${JSON.stringify(w!.emulator.stats().tokenRequests)}, ` +
          `worker log ${JSON.stringify(worker?.lines)} ${JSON.stringify(worker?.other)}`,
      )
    }
  }

  async function stopCleanly(worker: WorkerProcess) {
    worker.child.kill('SIGTERM')
    const exit = await worker.exited
    expect(exit).toEqual({ code: 0, signal: null })
    expect(worker.other).toEqual([])
    return worker.summary()!
  }

  it('SIGTERM while refreshing: finishes the refresh, releases the lease, exits 0', async () => {
    const { id, before, worker } = await workerMidRefresh({})
    worker.child.kill('SIGTERM')
    const exit = await worker.exited
    expect(exit).toEqual({ code: 0, signal: null })
    const messages = worker.lines.map((line) => line.msg)
    expect(messages).toContain('stopping: finishing refreshes in flight and releasing leases')
    expect(worker.summary()).toMatchObject({ refreshed: 1, failed: 0, needsReauth: 0, reason: 'SIGTERM' })
    expect(await w!.keeper.store.getLease(refreshLeaseKey(id), w!.now())).toBeNull()
    const after = (await w!.keeper.store.getConnection(id))!
    expect(after.state).toBe('active')
    expect(after.tokens?.refreshToken).not.toBe(before.tokens?.refreshToken)
    expect(await tokenWorks(w!, after.tokens!.accessToken!)).toBe(true)
    expect(Object.values(w!.emulator.stats().refreshesByFamily)).toEqual([1])
    // No secret in anything the worker printed.
    const printed = JSON.stringify(worker.lines)
    for (const secret of [after.tokens?.accessToken, after.tokens?.refreshToken, before.tokens?.refreshToken])
      expect(printed).not.toContain(secret)
  })

  it('SIGKILL before the provider committed: another worker takes over after the lease; nothing lost', async () => {
    const { id, before, worker, lease } = await workerMidRefresh({
      dropNextTokenResponses: { count: 1, afterCommit: false },
    })
    worker.child.kill('SIGKILL')
    expect((await worker.exited).signal).toBe('SIGKILL')
    // The dead worker's lease is still there: nobody may refresh until it lapses.
    const orphan = await w!.keeper.store.getLease(refreshLeaseKey(id), w!.now())
    expect(orphan).toMatchObject({ owner: lease.owner, fencingToken: lease.fencingToken })
    w!.emulator.configure({ latencyMs: 0 })
    const takeover = startWorker(w!.store.url, ['--idle-ms', '100'])
    const after = await nextRecord(id, before.version, takeover)
    expect(after.state).toBe('active')
    expect(after.lastRefreshAt).toBeGreaterThanOrEqual((orphan as Lease).expiresAt)
    expect(after.previousRefreshToken).toBe(before.tokens?.refreshToken)
    expect(await tokenWorks(w!, after.tokens!.accessToken!)).toBe(true)
    const stats = w!.emulator.stats()
    expect(stats.injected.drops).toBe(1)
    expect(Object.values(stats.refreshesByFamily)).toEqual([1])
    expect(stats.reuseDetected).toBe(0)
    expect(stats.tokenErrors.invalid_grant ?? 0).toBe(0)
    expect(await stopCleanly(takeover)).toMatchObject({ refreshed: 1, failed: 0, needsReauth: 0 })
  })

  it('SIGKILL after the provider committed, grace period on: the next worker recovers with the previous refresh token', async () => {
    const { id, before, worker } = await workerMidRefresh({ reuseGraceSeconds: 30 })
    worker.child.kill('SIGKILL')
    await worker.exited
    w!.emulator.configure({ latencyMs: 0 })
    // The provider finishes the dead worker's request: it rotates, and the answer goes nowhere.
    await waitFor(
      'the provider to commit the dead worker’s refresh',
      () => w!.emulator.stats().tokensIssued >= 2,
    )
    expect(Object.values(w!.emulator.stats().refreshesByFamily)).toEqual([1])
    const takeover = startWorker(w!.store.url, ['--idle-ms', '100'])
    const after = await nextRecord(id, before.version, takeover)
    expect(after.state).toBe('active')
    expect(await tokenWorks(w!, after.tokens!.accessToken!)).toBe(true)
    const stats = w!.emulator.stats()
    expect(stats.graceReplays).toBeGreaterThanOrEqual(1)
    expect(stats.familiesRevoked).toBe(0)
    expect(stats.reuseDetected).toBe(0)
    expect(stats.tokenErrors.invalid_grant ?? 0).toBe(0)
    expect(await stopCleanly(takeover)).toMatchObject({ refreshed: 1, failed: 0, needsReauth: 0 })
  })

  it('response dropped after commit, grace period on: the retry with the previous refresh token recovers', async () => {
    w = await world(kind, {
      emulator: { reuseDetection: true, reuseGraceSeconds: 30 },
    })
    const [id] = await connectMany(w, 1)
    w.emulator.configure({ dropNextTokenResponses: { count: 1, afterCommit: true } })
    const before = (await w.keeper.store.getConnection(id!))!
    await makeDue(w.keeper, id!)
    const worker = startWorker(w.store.url, ['--idle-ms', '100'])
    const after = await nextRecord(id!, before.version + 1, worker)
    expect(after.state).toBe('active')
    expect(await tokenWorks(w, after.tokens!.accessToken!)).toBe(true)
    const stats = w.emulator.stats()
    expect(stats.injected.dropsAfterCommit).toBe(1)
    expect(stats.graceReplays).toBe(1)
    expect(stats.familiesRevoked).toBe(0)
    expect(Object.values(stats.refreshesByFamily)).toEqual([1])
    expect(await stopCleanly(worker)).toMatchObject({ refreshed: 1, failed: 0, needsReauth: 0 })
  })

  it('response dropped after commit, no grace, reuse detection on: needs_reauth with a clear error, never silently broken', async () => {
    w = await world(kind, {
      emulator: { reuseDetection: true, reuseGraceSeconds: 0 },
    })
    const [id] = await connectMany(w, 1)
    w.emulator.configure({ dropNextTokenResponses: { count: 1, afterCommit: true } })
    const before = (await w.keeper.store.getConnection(id!))!
    await makeDue(w.keeper, id!)
    const worker = startWorker(w.store.url, ['--idle-ms', '100'])
    const after = await waitFor('the connection to need a new authorization', async () => {
      const record = await w!.keeper.store.getConnection(id!)
      return record?.state === 'needs_reauth' ? record : undefined
    })
    expect(after.lastError?.code).toBe('invalid_grant')
    expect(after.lastError?.message).toMatch(/already used|revoked/i)
    expect(after.refreshDueAt).toBeUndefined()
    // What the provider saw: our retry presented the same refresh token a second time (the
    // first answer was lost after it rotated), which reuse detection treats as theft.
    const stats = w.emulator.stats()
    expect(stats.tokenRequests.refresh_token).toBe(2)
    expect(stats.refreshesByToken[tokenFingerprint(before.tokens!.refreshToken!)]).toBe(2)
    expect(stats.reuseDetected).toBe(1)
    expect(stats.familiesRevoked).toBe(1)
    // The caller is told plainly, and the worker logged it.
    const elsewhere = await w.reopen()
    await expect(elsewhere.connection(id!).accessToken()).rejects.toMatchObject({ code: 'needs_reauth' })
    const summary = await stopCleanly(worker)
    expect(summary).toMatchObject({ refreshed: 0, needsReauth: 1 })
    expect(
      worker.lines.some(
        (line) => line.msg === 'connection needs a new authorization' && line.connection === id,
      ),
    ).toBe(true)
  })
}
