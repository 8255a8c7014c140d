// The thundering herd (issue 7, "What must show"): 8 OS processes × 200 concurrent callers on 50
// BookingSync connections whose tokens expire together, emulator rotating refresh tokens with
// reuse detection on. Every connection is refreshed exactly once, nobody is refused, and every
// process ends up with the one valid token per connection.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { TEST_KEYS } from '../support/keeper.js'
import { connectMany, type StoreKind, tokenWorks, type World, world } from './harness.js'

const PROCESSES = 8
const CALLERS = 200
const CONNECTIONS = 50
const CHILD = join(import.meta.dirname, '../support/child-herd.mjs')

interface HerdAnswer {
  tokens: Record<string, string[]>
  errors: Record<string, number>
}

/** Starts one herd process; resolves `ready` once it has opened the store, `done` with its answer. */
function herdProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk
  })
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
    if (stdout.includes('ready\n')) markReady()
  })
  const done = new Promise<HerdAnswer>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? ''
      if (code !== 0) reject(new Error(`herd process exited ${code}: ${stderr.slice(0, 2000)}`))
      else resolve(JSON.parse(last) as HerdAnswer)
    })
  })
  return { child, ready, done, go: () => child.stdin.write('go\n') }
}

export function herdTests(kind: StoreKind): void {
  let w: World | undefined
  afterEach(async () => {
    await w?.dispose()
    w = undefined
  })

  it(`${PROCESSES} processes × ${CALLERS} callers on ${CONNECTIONS} connections expiring together: each refreshed exactly once`, async () => {
    w = await world(kind, { emulator: { latencyMs: 25 } })
    const ids = await connectMany(w, CONNECTIONS)
    // Every token expires at once: move both clocks past the 2-hour lifetime.
    w.advance(7200)
    const before = w.emulator.stats()
    const herd = Array.from({ length: PROCESSES }, () =>
      herdProcess({
        STORE: w!.store.url,
        KEYS: TEST_KEYS,
        OFFSET_MS: String(w!.now() - Date.now()),
        CALLERS: String(CALLERS),
        CONNECTIONS: ids.join(','),
      }),
    )
    await Promise.all(herd.map((one) => one.ready))
    for (const one of herd) one.go()
    const answers = await Promise.all(herd.map((one) => one.done))

    const stats = w.emulator.stats()
    const refreshes = stats.tokenRequests.refresh_token ?? 0
    const families = Object.values(stats.refreshesByFamily)
    process.stderr.write(
      `[herd ${kind}] refresh requests ${refreshes - (before.tokenRequests.refresh_token ?? 0)}, ` +
        `families refreshed ${families.length}, peak concurrent token requests ${stats.peakConcurrentTokenRequests}, ` +
        `token errors ${JSON.stringify(stats.tokenErrors)}\n`,
    )
    expect(answers.map((answer) => answer.errors)).toEqual(answers.map(() => ({})))
    expect(families).toHaveLength(CONNECTIONS)
    expect(families.every((count) => count === 1)).toBe(true)
    expect(refreshes).toBe(CONNECTIONS)
    expect(stats.tokenErrors.invalid_grant ?? 0).toBe(0)
    expect(stats.reuseDetected).toBe(0)
    expect(stats.familiesRevoked).toBe(0)
    expect(stats.maxUsesOfOneRefreshToken).toBe(1)

    // Every process saw exactly one token per connection: the one in the store, and it works.
    for (const id of ids) {
      const seen = new Set(answers.flatMap((answer) => answer.tokens[id] ?? []))
      expect(seen.size, id).toBe(1)
      const stored = await w.keeper.store.getConnection(id)
      expect(stored?.state).toBe('active')
      const [token] = [...seen]
      expect(token).toBe(stored?.tokens?.accessToken)
      expect(await tokenWorks(w, token!)).toBe(true)
    }
  }, 90_000)
}
