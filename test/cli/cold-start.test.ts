// `innkeeper token` loads only what it uses: the module of the command it runs and the SQLite
// driver, not the server (Fastify, pino), the emulators, the other commands, the PostgreSQL and
// Redis drivers, the webhook outbox writer and delivery code, the revocation request, or zod (the built-in provider definitions are filled in without it). No timing here (the bench measures `cli.coldStart`); this keeps the
// laziness from regressing silently.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, CLI, type Home, makeHome } from '../support/cli.js'

const RECORDER = resolve('test/support/record-modules.mjs')

let bookyflow: EmulatorHandle
let home: Home

beforeAll(async () => {
  bookyflow = await startEmulator('bookyflow')
  home = makeHome()
  await addApp(home, 'bf', 'bookyflow', bookyflow, ['--scope', 'read write'])
  const connected = await home.run(['connect', 'bf', '--channel', 'my-channel'])
  if (connected.code !== 0) throw new Error(`connect failed: ${connected.stderr}`)
})
afterAll(async () => {
  await bookyflow.close()
  home.close()
})

/** Runs the CLI with the module recorder; answers its exit code, stdout and the modules it loaded. */
function runRecorded(args: string[], label: string) {
  const out = join(home.dir, `modules-${label}.txt`)
  const result = spawnSync(process.execPath, ['--import', RECORDER, CLI, ...args], {
    env: { ...home.env, RECORD_MODULES: out },
    cwd: home.dir,
    encoding: 'utf8',
  })
  const modules = readFileSync(out, 'utf8').split('\n').filter(Boolean)
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, modules }
}

const loads = (modules: string[], fragment: string) => modules.some((module) => module.includes(fragment))

describe('innkeeper token loads only what it uses', () => {
  it('prints a fresh token without loading the server, the emulators, other commands, other store drivers, webhook delivery or zod', () => {
    const before = bookyflow.stats().tokenRequests.total ?? 0
    const { code, stdout, stderr, modules } = runRecorded(['token', 'bf/main'], 'token')
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toMatch(/^\S+\n$/)
    expect(bookyflow.stats().tokenRequests.total ?? 0).toBe(before)
    // The recorder sees what the command needs…
    expect(loads(modules, '/dist/cli/commands/token.js')).toBe(true)
    expect(loads(modules, '/node_modules/better-sqlite3/')).toBe(true)
    // …and none of this.
    for (const absent of [
      '/node_modules/fastify/',
      '/node_modules/pino/',
      '/node_modules/pg/',
      '/node_modules/ioredis/',
      '/node_modules/cli-progress/',
      '/node_modules/zod/',
      // better-sqlite3's addon is named directly, not looked up through `bindings`.
      '/node_modules/bindings/',
      '/dist/server/server.js',
      '/dist/emulators/',
      '/dist/stores/postgres/',
      '/dist/stores/redis/',
      '/dist/cli/commands/serve.js',
      '/dist/cli/commands/connect.js',
      '/dist/cli/commands/refresh.js',
      // Webhooks start only where used: no outbox writer without a connection change, no delivery.
      '/dist/webhooks/outbox-writer.js',
      '/dist/webhooks/deliver.js',
      '/dist/webhooks/post.js',
      '/dist/webhooks/address-policy.js',
      '/node_modules/ipaddr.js/',
      '/dist/oauth/revoke.js',
    ]) {
      expect({ absent, loaded: loads(modules, absent) }).toEqual({ absent, loaded: false })
    }
  })

  it('loads every command for --help, which lists them all', () => {
    const { code, stdout, modules } = runRecorded(['--help'], 'help')
    expect(code).toBe(0)
    expect(stdout).toContain('token')
    expect(stdout).toContain('serve')
    expect(loads(modules, '/dist/cli/commands/serve.js')).toBe(true)
    expect(loads(modules, '/dist/cli/commands/token.js')).toBe(true)
  })
})
