// Issue 13 item 9: a change made in one process reaches every process sharing the store. Process
// A (this test's Innkeeper) holds a connection's token in its cache; process B (the built CLI)
// disconnects or refreshes the connection; A stops handing out the old token soon after (the
// store's changes feed), on SQLite, PostgreSQL and Redis. Polls with a generous overall
// timeout: it asserts that A notices, not how fast. And callers in A waiting for B's refresh
// (woken by the same feed, issue 15) all get B's token, with one refresh in all. An API key
// revoked by B is refused by A's running server, which keeps key hashes in memory.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createApiKey } from '../../src/server/api-keys.js'
import { createServer } from '../../src/server/server.js'
import { TEST_KEYS } from '../support/keeper.js'
import { CLI, connectMany, describeOnStore, type StoreKind, type World, waitFor, world } from './harness.js'

/** Runs the built CLI against `storeUrl` as another OS process; resolves with its exit code and output. */
function cli(storeUrl: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const home = mkdtempSync(join(tmpdir(), 'innkeeper-changes-home-'))
  const child = spawn(process.execPath, [CLI, ...args, '--store', storeUrl], {
    env: { ...process.env, INNKEEPER_KEYS: TEST_KEYS, INNKEEPER_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      rmSync(home, { recursive: true, force: true })
      resolve({ code, output })
    })
  })
}

for (const kind of ['sqlite', 'postgres', 'redis'] as StoreKind[]) {
  await describeOnStore(kind, 'changes made by another process', () => {
    let w: World | undefined
    afterEach(async () => {
      await w?.dispose()
      w = undefined
    })

    it('a disconnect in another process stops this one handing out the cached token', async () => {
      w = await world(kind)
      const [id] = await connectMany(w, 1)
      const connection = w.keeper.connection(id!)
      const token = await connection.accessToken()
      // Served from this process's cache from now on (the token is good for two hours).
      expect(await connection.accessToken()).toBe(token)
      const readsBefore = w.emulator.stats().tokenRequests

      const disconnected = await cli(w.store.url, ['disconnect', id!])
      expect(disconnected.code, disconnected.output).toBe(0)

      const refusal = await waitFor(
        'this process to refuse the disconnected connection',
        () =>
          connection.accessToken().then(
            () => undefined,
            (error: unknown) => error as { code?: string },
          ),
        60_000,
        50,
      )
      expect(refusal.code).toBe('unknown_connection')
      await expect(connection.fetch('/rentals')).rejects.toMatchObject({ code: 'unknown_connection' })
      // Nothing was refreshed to get there.
      expect(w.emulator.stats().tokenRequests).toEqual(readsBefore)
    })

    it('a refresh in another process replaces the cached token here', async () => {
      w = await world(kind)
      const [id] = await connectMany(w, 1)
      const connection = w.keeper.connection(id!)
      const token = await connection.accessToken()
      expect(await connection.accessToken()).toBe(token)

      const refreshed = await cli(w.store.url, ['refresh', id!])
      expect(refreshed.code, refreshed.output).toBe(0)
      const stored = (await w.keeper.store.getConnection(id!))!
      expect(stored.tokens?.accessToken).not.toBe(token)

      const next = await waitFor(
        'this process to hand out the new token',
        async () => {
          const current = await connection.accessToken()
          return current !== token ? current : undefined
        },
        60_000,
        50,
      )
      expect(next).toBe(stored.tokens?.accessToken)
    })

    it('an API key revoked in another process is refused by the running server, without a restart', async () => {
      w = await world(kind)
      const server = await createServer({ keeper: w.keeper, logger: false })
      try {
        await server.listen({ host: '127.0.0.1', port: 0 })
        const address = server.server.address()
        const port = typeof address === 'object' && address ? address.port : 0
        const { key, record } = await createApiKey(w.keeper.store, 'ci')
        const status = () =>
          fetch(`http://127.0.0.1:${port}/api/connections`, {
            headers: { authorization: `Bearer ${key}` },
          }).then((response) => response.status)
        expect(await status()).toBe(200)
        // Checked from the server's memory from now on.
        expect(await status()).toBe(200)

        const revoked = await cli(w.store.url, ['keys', 'revoke', record.id])
        expect(revoked.code, revoked.output).toBe(0)
        await waitFor(
          'the running server to refuse the revoked key',
          async () => ((await status()) === 401 ? true : undefined),
          60_000,
          50,
        )
      } finally {
        await server.close()
      }
    })

    it('callers waiting on another process refreshing get its new token (woken by the feed)', async () => {
      w = await world(kind)
      const [id] = await connectMany(w, 1)
      const connection = w.keeper.connection(id!)
      const old = await connection.accessToken()
      // Process B's refresh holds the lease for a while (a slow platform).
      w.emulator.configure({ latencyMs: 1_500 })
      const before = w.emulator.stats()
      const other = cli(w.store.url, ['refresh', id!])
      await waitFor(
        "the other process's token request to be on the wire",
        () =>
          (w!.emulator.stats().tokenRequests.refresh_token ?? 0) >
            (before.tokenRequests.refresh_token ?? 0) || undefined,
        60_000,
        20,
      )
      // Ten callers here ask for a new token meanwhile: they wait for B's and take it.
      const infos = await Promise.all(Array.from({ length: 10 }, () => connection.refresh()))
      const refreshed = await other
      expect(refreshed.code, refreshed.output).toBe(0)
      const stored = (await w.keeper.store.getConnection(id!))!
      expect(stored.tokens?.accessToken).not.toBe(old)
      expect(infos.every((info) => info.state === 'active')).toBe(true)
      expect(await connection.accessToken()).toBe(stored.tokens?.accessToken)
      // One refresh for everyone, its refresh token presented once.
      const after = w.emulator.stats()
      expect((after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0)).toBe(1)
      expect(after.maxUsesOfOneRefreshToken).toBe(1)
      expect(after.reuseDetected).toBe(0)
    })
  })
}
