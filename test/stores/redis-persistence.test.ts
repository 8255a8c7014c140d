// Issue 13 item 16: a Redis store survives a restart of Redis when Redis persists (AOF), and
// `doctor`, `worker` and `serve` warn when it does not. Starts its own `redis-server` on a free
// port in a temporary directory (appendonly yes, appendfsync always, CONFIG renamed away so the
// check must fall back to INFO), refreshes a connection, SIGKILLs Redis, starts it again on the
// same directory and port: the connection still works, with no new authorization. The shared
// test Redis runs without persistence (`--save "" --appendonly no`): there the warning shows.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Innkeeper } from '../../src/index.js'
import { appFor, setup, TEST_KEYS } from '../support/keeper.js'
import { REDIS_TEST_URL, requireRedis, uniqueTestName, withQueryParam } from '../support/services.js'
import {
  CLI,
  connectMany,
  startWorker,
  stopAllWorkers,
  tokenWorks,
  type World,
  waitFor,
} from '../workers/harness.js'

const service = await requireRedis()
const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Starts redis-server on `port` with its files in `dir`; resolves once it answers PING. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--rename-command',
      'CONFIG',
      '',
    ],
    { stdio: 'ignore' },
  )
  await waitFor(
    'redis-server to answer',
    async () => {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null })
      probe.on('error', () => undefined)
      try {
        await probe.connect()
        return (await probe.ping()) === 'PONG'
      } catch {
        return false
      } finally {
        probe.disconnect()
      }
    },
    30_000,
    100,
  )
  return child
}

function killRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

/** `innkeeper doctor --json` against `store`: the checks it printed. */
function doctor(store: string): Array<{ check: string; status: string; message: string }> {
  const home = mkdtempSync(join(tmpdir(), 'innkeeper-doctor-home-'))
  try {
    const output = execFileSync(process.execPath, [CLI, 'doctor', '--json', '--store', store], {
      env: { ...process.env, INNKEEPER_KEYS: TEST_KEYS, INNKEEPER_HOME: home, NO_COLOR: '1' },
      encoding: 'utf8',
    })
    return JSON.parse(output)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

describe.runIf(hasRedisServer)('a Redis store on a Redis with AOF persistence', () => {
  let dir: string
  let port: number
  let redis: ChildProcess | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'innkeeper-redis-aof-'))
    port = await freePort()
    redis = await startRedis(port, dir)
  })

  afterAll(async () => {
    if (redis) await killRedis(redis)
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps a refreshed connection across a SIGKILL and restart of Redis: no new authorization', async () => {
    const storeUrl = `redis://127.0.0.1:${port}/0?prefix=aof-test:`
    const fixture = await setup('bookingsync', {
      emulator: { config: { rotateRefreshTokens: true, reuseDetection: true } },
      keeper: { store: storeUrl, keys: TEST_KEYS },
    })
    try {
      await fixture.keeper.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
      const w = { ...fixture, app: 'acme-bs' } as unknown as World
      const [id] = await connectMany(w, 1)
      const refreshed = await fixture.keeper.connection(id!).refresh()
      expect(refreshed.state).toBe('active')
      const before = (await fixture.keeper.store.getConnection(id!))!
      const authorizationsBefore = fixture.emulator.stats().tokenRequests.authorization_code

      await fixture.keeper.close()
      await killRedis(redis!)
      redis = await startRedis(port, dir)

      const after = await fixture.reopen()
      const stored = (await after.store.getConnection(id!))!
      expect(stored.tokens?.refreshToken).toBe(before.tokens?.refreshToken)
      expect(await after.connection(id!).accessToken()).toBe(before.tokens?.accessToken)
      expect(await tokenWorks(w, before.tokens!.accessToken!)).toBe(true)
      // The rotated refresh token is the one the platform expects: the next refresh works.
      expect((await after.connection(id!).refresh()).state).toBe('active')
      const stats = fixture.emulator.stats()
      expect(stats.tokenRequests.authorization_code).toBe(authorizationsBefore)
      expect(stats.reuseDetected).toBe(0)
      expect(stats.tokenErrors.invalid_grant ?? 0).toBe(0)
      // CONFIG is renamed away on this server: the check falls back to INFO, which says AOF is on.
      expect(await after.store.durabilityWarning()).toBeUndefined()
      expect(doctor(storeUrl).map((check) => check.check)).not.toContain('store durability')
    } finally {
      await fixture.close()
    }
  }, 120_000)
})

describe.runIf(service.available)('a Redis store on a Redis without persistence', () => {
  const storeUrl = withQueryParam(REDIS_TEST_URL, 'prefix', `${uniqueTestName('durability')}:`)

  afterAll(async () => {
    await stopAllWorkers()
  })

  it('doctor warns that a restart of Redis loses every token', async () => {
    const keeper = await Innkeeper.open({ store: storeUrl, keys: TEST_KEYS })
    try {
      expect(await keeper.store.durabilityWarning()).toMatch(/no persistence.*appendonly yes/s)
    } finally {
      await keeper.close()
    }
    const warning = doctor(storeUrl).find((check) => check.check === 'store durability')
    expect(warning).toMatchObject({ status: 'warn' })
    expect(warning?.message).toMatch(/restart of Redis loses every token/)
    expect(warning?.message).toContain('appendonly yes')
  })

  it('the worker warns at start', async () => {
    const worker = startWorker(storeUrl, ['--idle-ms', '200'])
    const line = await waitFor('the durability warning', () =>
      worker.lines.find((entry) => /no persistence/.test(entry.msg)),
    )
    expect(line.level).toBe(40)
    await waitFor('the worker to start', () => worker.lines.some((entry) => entry.msg === 'worker started'))
    worker.child.kill('SIGTERM')
    const exit = await worker.exited
    expect(exit, JSON.stringify([exit, worker.lines, worker.other])).toMatchObject({ code: 0 })
  })
})
