// Shared fixtures for the worker acceptance tests: a store on the real PostgreSQL or Redis (one
// schema / key prefix per test, removed afterwards), a BookingSync emulator and an Innkeeper on
// one moving clock, fast connection set-up (authorize + emulator approval + complete, no HTTP
// consent page), and `innkeeper worker` child processes whose JSON log lines are collected.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { describe, it } from 'vitest'
import type { EmulatorConfigPatch } from '../../src/emulators/index.js'
import type { Innkeeper } from '../../src/index.js'
import { appFor, type Fixture, setup, TEST_KEYS } from '../support/keeper.js'
import {
  mustFailWhenUnavailable,
  POSTGRES_TEST_URL,
  REDIS_TEST_URL,
  requirePostgres,
  requireRedis,
  type ServiceAvailability,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'

export const ROOT = join(import.meta.dirname, '../..')
export const CLI = join(ROOT, 'dist/cli/main.js')

export type StoreKind = 'postgres' | 'redis' | 'sqlite'

const availability = new Map<StoreKind, Promise<ServiceAvailability>>()

function serviceFor(kind: StoreKind): Promise<ServiceAvailability> {
  let found = availability.get(kind)
  if (!found) {
    found =
      kind === 'postgres'
        ? requirePostgres()
        : kind === 'redis'
          ? requireRedis()
          : Promise.resolve({ available: true, reason: '' })
    availability.set(kind, found)
  }
  return found
}

/**
 * `describe` that runs only when the store's service is reachable; under CI an unreachable
 * service registers a failing test instead (the tests must run there, never skip).
 */
export async function describeOnStore(kind: StoreKind, name: string, body: () => void): Promise<void> {
  const service = await serviceFor(kind)
  if (!service.available && mustFailWhenUnavailable()) {
    describe(`${name} [${kind}]`, () => {
      it(`needs a running ${kind} under CI`, () => {
        throw new Error(service.reason)
      })
    })
    return
  }
  describe.runIf(service.available)(`${name} [${kind}]`, body)
}

export interface TestStore {
  kind: StoreKind
  url: string
  drop(): Promise<void>
}

/** A fresh, empty store of `kind`: its own PostgreSQL schema, Redis prefix or SQLite file. */
export function freshStore(kind: StoreKind): TestStore {
  if (kind === 'postgres') {
    const schema = uniqueTestName('wk')
    return {
      kind,
      url: withQueryParam(POSTGRES_TEST_URL, 'schema', schema),
      async drop() {
        const admin = new pg.Client({ connectionString: POSTGRES_TEST_URL })
        await admin.connect()
        try {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        } finally {
          await admin.end()
        }
      },
    }
  }
  if (kind === 'redis') {
    const prefix = `${uniqueTestName('wk')}:`
    return {
      kind,
      url: withQueryParam(REDIS_TEST_URL, 'prefix', prefix),
      async drop() {
        const admin = new Redis(REDIS_TEST_URL)
        try {
          let cursor = '0'
          do {
            const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
            if (keys.length > 0) await admin.del(...keys)
            cursor = next
          } while (cursor !== '0')
        } finally {
          admin.disconnect()
        }
      },
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'innkeeper-workers-'))
  return {
    kind,
    url: `sqlite:${join(dir, 'innkeeper.db')}`,
    async drop() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface WorldOptions {
  emulator?: EmulatorConfigPatch
  /** Token-request retry policy of the test's own Innkeeper. */
  leaseMs?: number
}

export interface World extends Fixture {
  store: TestStore
  app: string
  /** Everything this world started: emulator, Innkeeper, store, child processes. */
  dispose(): Promise<void>
}

/** An emulator, an Innkeeper on a fresh `kind` store, and an app registered for the emulator. */
export async function world(kind: StoreKind, options: WorldOptions = {}): Promise<World> {
  const store = freshStore(kind)
  const fixture = await setup('bookingsync', {
    emulator: { config: { rotateRefreshTokens: true, reuseDetection: true, ...options.emulator } },
    keeper: { store: store.url, keys: TEST_KEYS, ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}) },
  })
  const app = 'acme-bs'
  await fixture.keeper.apps.add(app, appFor(fixture.emulator, 'bookingsync'))
  return {
    ...fixture,
    store,
    app,
    async dispose() {
      await stopAllWorkers()
      await fixture.close()
      await store.drop()
    },
  }
}

/** Connects `count` accounts (`<app>/c0001` …) without a browser: the emulator approves directly. */
export async function connectMany(
  w: World,
  count: number,
  parallel = 25,
  keeper: Innkeeper = w.keeper,
): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `c${String(i + 1).padStart(4, '0')}`)
  let next = 0
  const connectOne = async (name: string) => {
    const start = await keeper.authorize(w.app, { name, scopes: ['rentals_read'] })
    const url = new URL(start.url)
    const { code } = w.emulator.approve({
      scope: url.searchParams.get('scope') ?? undefined,
      state: start.state,
      redirectUri: start.redirectUri,
    })
    const info = await start.complete({ code, state: start.state })
    return info.id
  }
  const ids: string[] = new Array(count)
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const index = next++
        ids[index] = await connectOne(names[index]!)
      }
    }),
  )
  return ids
}

/** Marks a connection due now (as if its token had reached its refresh margin). */
export async function makeDue(keeper: Innkeeper, id: string, at = keeper.now()): Promise<void> {
  const record = await keeper.store.getConnection(id)
  if (!record) throw new Error(`no connection ${id}`)
  await keeper.store.saveConnection({ ...record, refreshDueAt: at - 1 }, record.version)
}

/** Calls the emulator's API with a token: true when it is accepted. */
export async function tokenWorks(w: World, token: string): Promise<boolean> {
  const answer = await fetch(`${w.emulator.info.apiUrl}/accounts`, {
    headers: { authorization: `Bearer ${token}` },
  })
  await answer.arrayBuffer()
  return answer.status === 200
}

export interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

export interface WorkerProcess {
  child: ChildProcess
  pid: number
  /** Parsed JSON lines the worker wrote to stderr so far. */
  lines: LogLine[]
  /** Everything on stderr that was not a JSON line (should stay empty). */
  other: string[]
  /** Resolves with the exit code (or the signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The `worker stopped` summary, once written. */
  summary(): LogLine | undefined
}

const running = new Set<WorkerProcess>()

/** Starts `innkeeper worker --store <url> …args` as an OS process. */
export function startWorker(storeUrl: string, args: string[] = []): WorkerProcess {
  const home = mkdtempSync(join(tmpdir(), 'innkeeper-worker-home-'))
  const child = spawn(process.execPath, [CLI, 'worker', '--store', storeUrl, ...args], {
    env: { ...process.env, INNKEEPER_KEYS: TEST_KEYS, INNKEEPER_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: LogLine[] = []
  const other: string[] = []
  let buffer = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    buffer += chunk
    let newline = buffer.indexOf('\n')
    while (newline >= 0) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      try {
        lines.push(JSON.parse(line) as LogLine)
      } catch {
        if (line.trim()) other.push(line)
      }
      newline = buffer.indexOf('\n')
    }
  })
  child.stdout!.resume()
  const worker: WorkerProcess = {
    child,
    pid: child.pid!,
    lines,
    other,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(worker)
        rmSync(home, { recursive: true, force: true })
        resolve({ code, signal })
      })
    }),
    summary: () => lines.find((line) => line.msg === 'worker stopped'),
  }
  running.add(worker)
  return worker
}

/** Kills whatever worker a failed test left behind. */
export async function stopAllWorkers(): Promise<void> {
  const left = [...running]
  for (const worker of left) worker.child.kill('SIGKILL')
  await Promise.all(left.map((worker) => worker.exited))
}

/** Waits until `check` returns a truthy value, polling every `everyMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
