// `innkeeper token` loads only what it uses: the module of the command it runs and the SQLite
// driver, not the server (Fastify, pino), the emulators, the other commands, the PostgreSQL and
// Redis drivers, the webhook outbox writer and delivery code, the revocation request, or zod (the
// built-in provider definitions are filled in without it). No timing here (the bench measures
// `cli.coldStart`); this keeps the laziness from regressing silently. The CLI is a bundle
// (scripts/build-cli.js): a loaded bundle file stands for the source modules its source map lists.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
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

/** The file a recorded module came from, and the source modules its source map says it holds. */
function modulesOf(recorded: string): string[] {
  const file = recorded.startsWith('file:') ? fileURLToPath(recorded) : recorded
  const map = `${file}.map`
  if (!existsSync(map)) return [file]
  const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }
  return [file, ...sources.map((source) => resolve(dirname(file), source))]
}

/** Runs the CLI with the module recorder; answers its exit code, stdout and the modules it loaded. */
function runRecorded(args: string[], label: string) {
  const out = join(home.dir, `modules-${label}.txt`)
  const result = spawnSync(process.execPath, ['--import', RECORDER, CLI, ...args], {
    env: { ...home.env, RECORD_MODULES: out },
    cwd: home.dir,
    encoding: 'utf8',
  })
  const modules = readFileSync(out, 'utf8').split('\n').filter(Boolean).flatMap(modulesOf)
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
    expect(loads(modules, '/src/cli/commands/token.ts')).toBe(true)
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
      '/src/server/server.ts',
      '/src/emulators/',
      '/src/stores/postgres/',
      '/src/stores/redis/',
      '/src/cli/commands/serve.ts',
      '/src/cli/commands/connect.ts',
      '/src/cli/commands/refresh.ts',
      // Webhooks start only where used: no outbox writer without a connection change, no delivery.
      '/src/webhooks/outbox-writer.ts',
      '/src/webhooks/deliver.ts',
      '/src/webhooks/post.ts',
      '/src/webhooks/address-policy.ts',
      '/node_modules/ipaddr.js/',
      '/src/oauth/revoke.ts',
    ]) {
      expect({ absent, loaded: loads(modules, absent) }).toEqual({ absent, loaded: false })
    }
  })

  it('loads every command for --help, which lists them all', () => {
    const { code, stdout, modules } = runRecorded(['--help'], 'help')
    expect(code).toBe(0)
    expect(stdout).toContain('token')
    expect(stdout).toContain('serve')
    expect(loads(modules, '/src/cli/commands/serve.ts')).toBe(true)
    expect(loads(modules, '/src/cli/commands/token.ts')).toBe(true)
  })
})
