// A lost key file is not silently replaced: a store that already holds sealed data refuses to
// open under a new key, naming the key it needs. One record sealed with a key this process does
// not have is listed as `key_unavailable` and does not hide the others (library, CLI).

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { Innkeeper } from '../../src/index.js'
import { createApiKey } from '../../src/server/api-keys.js'
import { createServer } from '../../src/server/server.js'
import { cliEnv, runCli } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'

const K1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`
const K2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`

let emulator: EmulatorHandle | undefined
const dirs: string[] = []
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'innkeeper-missing-key-'))
  dirs.push(dir)
  return dir
}

async function connect(keeper: Innkeeper, name: string): Promise<void> {
  const start = await keeper.authorize('bs', { name, scopes: ['rentals_read'] })
  await start.complete({ code: (await answerConsent(start.url)).code })
}

describe('a missing key file', () => {
  it('is not replaced for a store that holds sealed data: key_unavailable names the key it needs', async () => {
    emulator = await startEmulator('bookingsync')
    const home = tempHome()
    const first = await Innkeeper.open({ home, keys: '' })
    await first.apps.add('bs', appFor(emulator, 'bookingsync'))
    await connect(first, 'main')
    await first.close()
    const keyFile = join(home, 'keys.json')
    const { current } = JSON.parse(readFileSync(keyFile, 'utf8')) as { current: string }
    rmSync(keyFile)

    await expect(Innkeeper.open({ home, keys: '' })).rejects.toMatchObject({
      code: 'key_unavailable',
      message: expect.stringContaining(`sealed with key '${current}'`),
      details: { keyIds: [current] },
    })
    expect(existsSync(keyFile)).toBe(false)
    // The CLI says the same, with exit code 2, and writes no key file either.
    const cli = await runCli(['connections'], cliEnv({ INNKEEPER_HOME: home }))
    expect(cli.code).toBe(2)
    expect(cli.stderr).toContain(`'${current}'`)
    expect(existsSync(keyFile)).toBe(false)
  })

  it('is created for a store with nothing sealed in it yet', async () => {
    const home = tempHome()
    const keeper = await Innkeeper.open({ home, keys: '' })
    await keeper.close()
    expect(existsSync(join(home, 'keys.json'))).toBe(true)
  })
})

describe('a record sealed with a key this process does not have', () => {
  it('is listed as key_unavailable by the library and the CLI; the others are listed as usual', async () => {
    emulator = await startEmulator('bookingsync')
    const home = tempHome()
    const store = `sqlite:${join(home, 'k.db')}`
    const old = await Innkeeper.open({ store, keys: K1 })
    await old.apps.add('bs', appFor(emulator, 'bookingsync'))
    await connect(old, 'old')
    await old.close()
    // k2 becomes current: the app is sealed again under it and a new connection is made.
    const both = await Innkeeper.open({ store, keys: `${K2},${K1}` })
    await both.apps.add('bs', appFor(emulator, 'bookingsync'))
    await connect(both, 'new')
    await both.close()

    const onlyNew = await Innkeeper.open({ store, keys: K2 })
    const server = await createServer({ keeper: onlyNew, logger: false })
    try {
      await server.listen({ host: '127.0.0.1', port: 0 })
      const { port } = server.server.address() as AddressInfo
      const { key } = await createApiKey(onlyNew.store, 'tests')
      const api = (path: string) =>
        fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${key}` } })
      const all = await api('/api/connections')
      expect(all.status).toBe(200)
      const body = (await all.json()) as { connections: Array<{ id: string; state: string }> }
      expect(body.connections.map((c) => [c.id, c.state])).toEqual([
        ['bs/new', 'active'],
        ['bs/old', 'key_unavailable'],
      ])
      const one = await api('/api/connections/bs/old')
      expect(one.status).toBe(200)
      expect(await one.json()).toMatchObject({ state: 'key_unavailable' })

      const listed = await onlyNew.connections()
      expect(listed.map((c) => [c.id, c.state])).toEqual([
        ['bs/new', 'active'],
        ['bs/old', 'key_unavailable'],
      ])
      const broken = listed.find((c) => c.id === 'bs/old')!
      expect(broken.lastError).toMatchObject({ code: 'key_unavailable' })
      expect(broken.lastError?.message).toContain("key 'k1'")
      await expect(onlyNew.connection('bs/old').info()).resolves.toMatchObject({ state: 'key_unavailable' })
      await expect(onlyNew.connection('bs/old').accessToken()).rejects.toMatchObject({
        code: 'key_unavailable',
      })
    } finally {
      await server.close()
      await onlyNew.close()
    }

    const env = cliEnv({ INNKEEPER_HOME: home, INNKEEPER_STORE: store, INNKEEPER_KEYS: K2 })
    const table = await runCli(['connections'], env)
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/bs\/new\tbookingsync\tactive/)
    expect(table.stdout).toMatch(/bs\/old\tbookingsync\tkey_unavailable/)
    const show = await runCli(['show', 'bs/old', '--json'], env)
    expect(show.code, show.stderr).toBe(0)
    expect(JSON.parse(show.stdout)).toMatchObject({ state: 'key_unavailable' })
  })
})
