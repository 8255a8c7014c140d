// What every benchmark sets up: a BookingSync emulator in its own process, stores (a fresh
// PostgreSQL schema or SQLite file per suite, removed afterwards), an app pointed at the
// emulator, connections made through the real authorization-code flow, cloned connections
// seeded straight into a store, forked child processes spoken to over IPC, and `innkeeper worker`
// processes whose JSON log lines are collected.
import { fork, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { appSettingsFor } from '../../dist/emulators/app-settings.js'
import { sleep } from './stats.js'

export const ROOT = join(import.meta.dirname, '../..')
export const CLI = join(ROOT, 'dist/cli/main.js')
export const BENCH_KEYS = `bench:${Buffer.alloc(32, 11).toString('base64')}`
export const POSTGRES_URL =
  process.env.INNKEEPER_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const APP = 'bench-bs'

/** Forks `script` with IPC; `request(cmd, arg)` sends { id, cmd, arg } and resolves with the reply. */
export function forkChild(script, { env = {}, execArgv = [], stdio } = {}) {
  const child = fork(script, [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: stdio ?? ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  let next = 0
  const waiting = new Map()
  let onReady
  const ready = new Promise((resolve, reject) => {
    onReady = resolve
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before it was ready`)))
  })
  ready.catch(() => {})
  child.on('message', (message) => {
    if (message?.ready) onReady(message)
    else if (message?.id !== undefined && waiting.has(message.id)) {
      const { resolve, reject } = waiting.get(message.id)
      waiting.delete(message.id)
      if (message.error) reject(new Error(message.error))
      else resolve(message.result)
    }
  })
  child.on('exit', (code) => {
    for (const { reject } of waiting.values()) reject(new Error(`${script} exited ${code}`))
    waiting.clear()
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    child,
    ready,
    request(cmd, arg) {
      const id = next++
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        child.send({ id, cmd, arg })
      })
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.disconnect()
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
    },
  }
}

/** A BookingSync emulator in its own process. */
export async function startEmulatorProcess(config = {}) {
  const proc = forkChild(join(ROOT, 'bench/children/emulator.js'), {
    env: { EMULATOR_CONFIG: JSON.stringify(config) },
  })
  const { info } = await proc.ready
  return {
    info,
    pid: proc.child.pid,
    approve: (request) => proc.request('approve', request),
    stats: () => proc.request('stats'),
    configure: (patch) => proc.request('configure', patch),
    close: () => proc.close(),
  }
}

/** App settings that point BookingSync at the emulator. */
export function appSettings(info) {
  return { provider: 'bookingsync', ...appSettingsFor(info) }
}

/** Connects `<app>/<name>` through the authorization-code flow, the emulator approving directly. */
export async function connectOne(keeper, emulator, name, app = APP) {
  const start = await keeper.authorize(app, { name, scopes: ['rentals_read'] })
  const url = new URL(start.url)
  const { code } = await emulator.approve({
    scope: url.searchParams.get('scope') ?? undefined,
    state: start.state,
    redirectUri: start.redirectUri,
  })
  const info = await start.complete({ code, state: start.state })
  return info.id
}

/** A fresh PostgreSQL schema (created by the store's migrations on open) and a way to drop it. */
export function postgresSchema(label) {
  const schema = `innkeeper_bench_${label}_${process.pid}_${randomBytes(3).toString('hex')}`
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('schema', schema)
  return {
    schema,
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: POSTGRES_URL })
      await admin.connect()
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      } finally {
        await admin.end()
      }
    },
  }
}

/** A fresh directory for a SQLite store, removed by `drop()`. */
export function sqliteDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `innkeeper-bench-${label}-`))
  return {
    dir,
    url: `sqlite:${join(dir, 'innkeeper.db')}`,
    async drop() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Saves `count` copies of `template` as `<app>/<prefix>NNNNNN` (each encrypted under its own id),
 * `parallel` at a time, with `refreshDueAt` = `dueAt`. Answers the ids.
 */
export async function seedClones(store, template, { prefix, from = 0, count, dueAt, parallel = 16 }) {
  const ids = Array.from(
    { length: count },
    (_, i) => `${template.app}/${prefix}${String(from + i).padStart(6, '0')}`,
  )
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < ids.length) {
        const id = ids[next++]
        const name = id.slice(template.app.length + 1)
        await store.saveConnection({ ...template, id, name, refreshDueAt: dueAt, version: 0 }, 0)
      }
    }),
  )
  return ids
}

/** Marks a stored connection's access token expired (as if its lifetime had run out). */
export async function expireToken(store, id, now = Date.now()) {
  const record = await store.getConnection(id)
  await store.saveConnection(
    {
      ...record,
      tokens: { ...record.tokens, obtainedAt: now - 7_200_000, expiresAt: now - 1_000 },
      refreshDueAt: now - 1_000,
    },
    record.version,
  )
}

/** Starts `innkeeper worker` on `storeUrl`; its stderr JSON log lines collect in `lines`. */
export function startWorker(storeUrl) {
  const child = spawn(process.execPath, [CLI, 'worker', '--store', storeUrl, '--idle-ms', '100'], {
    env: { ...process.env, INNKEEPER_KEYS: BENCH_KEYS },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const lines = []
  let buffer = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part))
      } catch {
        lines.push({ msg: part })
      }
    }
  })
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, lines, exited }
}

/** Polls `check` every 50 ms until it is truthy; throws after `timeoutMs`. */
export async function waitFor(what, check, timeoutMs) {
  const deadline = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}
