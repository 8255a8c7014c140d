// The CLI's manners: bad flags, unknown apps and connections give one-sentence reasons and exit 2;
// `--client-secret` warns about shell history; every command has an example in `--help`;
// `doctor` names what to fix and exits non-zero when a person must authorize again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'

let home: Home
let emulator: EmulatorHandle

beforeAll(async () => {
  home = makeHome()
  emulator = await startEmulator('bookyflow')
  // The named store must exist for commands that only read (`store_not_found` otherwise).
  await addApp(home, 'seed', 'bookyflow', emulator)
})
afterAll(async () => {
  await emulator.close()
  home.close()
})

describe('CLI usage errors and help', () => {
  it('rejects an unknown flag with exit code 2', async () => {
    const result = await home.run(['connections', '--jsn'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("unknown option '--jsn'")
  })

  it('names the unknown app and how to list apps, with exit code 2', async () => {
    const result = await home.run(['connect', 'nope'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'innkeeper: There is no app named "nope". List apps with `innkeeper apps list`.\n',
    )
  })

  it('names an unknown connection with exit code 2', async () => {
    for (const args of [
      ['token', 'nope/main'],
      ['show', 'nope'],
      ['refresh', 'nope/x'],
    ]) {
      const result = await home.run(args)
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^innkeeper: .*nope/)
    }
  })

  it('refuses an unknown provider and lists the known ones', async () => {
    const result = await home.run(['apps', 'add', 'x', '--provider', 'airbnb', '--client-id', 'id'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('bookingsync')
  })

  it('requires a client secret where the provider does, pointing at --client-secret-stdin', async () => {
    const result = await home.run(['apps', 'add', 'x', '--provider', 'smily', '--client-id', 'id'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--client-secret-stdin')
  })

  it('warns that --client-secret lands in shell history, and never shows the secret', async () => {
    const result = await home.run([
      'apps',
      'add',
      'bf',
      '--provider',
      'bookyflow',
      '--client-id',
      emulator.info.clientId,
      '--client-secret',
      emulator.info.clientSecret,
      '--base-url',
      emulator.info.baseUrl!,
      '--json',
    ])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('shell history')
    expect(result.stderr).toContain('--client-secret-stdin')
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'bf', hasClientSecret: true })
    const listed = await home.run(['apps', 'list', '--json'])
    expect(`${result.stdout}${result.stderr}${listed.stdout}`).not.toContain(emulator.info.clientSecret)
  })

  it('refuses plain HTTP to a non-loopback host', async () => {
    const result = await home.run(
      [
        'apps',
        'add',
        'y',
        '--provider',
        'bookyflow',
        '--client-id',
        'id',
        '--client-secret-stdin',
        '--base-url',
        'http://example.com',
      ],
      'secret\n',
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('not HTTPS')
  })

  it('explains bad request flags', async () => {
    await addApp(home, 'bf2', 'bookyflow', emulator)
    expect((await home.run(['connect', 'bf2'])).code).toBe(0)
    const badData = await home.run(['request', 'bf2/main', 'POST', '/properties', '--data', '{nope'])
    expect(badData.code).toBe(2)
    expect(badData.stderr).toContain('--data must be JSON')
    const badMethod = await home.run(['request', 'bf2/main', 'FETCH', '/properties'])
    expect(badMethod.code).toBe(2)
    const neither = await home.run(['refresh'])
    expect(neither.code).toBe(2)
    expect(neither.stderr).toContain('--all')
  })

  it('puts an example in every command’s --help and points to the platform guides', async () => {
    const top = await home.run(['--help'])
    expect(top.code).toBe(0)
    expect(top.stdout).toContain('docs/platforms/')
    const commands = [
      ['apps', 'add'],
      ['apps', 'list'],
      ['apps', 'remove'],
      ['connect'],
      ['connections'],
      ['show'],
      ['token'],
      ['refresh'],
      ['request'],
      ['disconnect'],
      ['demo'],
      ['doctor'],
      ['open'],
    ]
    const helps = await Promise.all(commands.map((command) => home.run([...command, '--help'])))
    for (const [index, help] of helps.entries()) {
      expect(help.code, commands[index]?.join(' ')).toBe(0)
      expect(help.stdout, commands[index]?.join(' ')).toMatch(/Examples?:\n {2}\S/)
    }
    expect(helps[3]?.stdout).toContain('--organization')
    expect(helps[3]?.stdout).toContain('--channel')
  })

  it('doctor checks the store, key and connections and exits 0 when all is well', async () => {
    const healthy = await home.run(['doctor'])
    expect(healthy.stdout).toContain('The store is reachable')
    expect(healthy.stdout).toContain('is private (mode 600)')
    expect(healthy.stdout).toContain('Nothing needs attention.')
    expect(healthy.code).toBe(0)
  })

  it('doctor says whether this Node.js is a supported line, and an old one is only a note', async () => {
    // CI runs the suite on the machine's Node (20) and on Node 22 and Node 24 (.ci/with-node), so
    // both answers are seen.
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
    const supported = major >= 24 || (major === 22 && minor >= 12)
    const result = await home.run(['doctor', '--json'])
    const checks = JSON.parse(result.stdout) as { check: string; status: string; message: string }[]
    const node = checks.find((check) => check.check === 'node')
    expect(node?.message).toContain(`Node.js ${process.version}`)
    if (supported) {
      expect(node?.status).toBe('ok')
    } else {
      expect(node?.status).toBe('warn')
      expect(node?.message).toContain('Node.js 22 (from 22.12) and 24')
    }
    expect(result.code).toBe(0)
  })
})
