// The CLI under an unlucky operator: a reader that closes the pipe early, a store path that does
// not exist for a command that only reads, and URLs that carry credentials.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, type CliResult, type Home, makeHome } from '../support/cli.js'

let home: Home

beforeAll(() => {
  home = makeHome()
})
afterAll(() => {
  home.close()
})

/** Runs the CLI with its stdout closed by the reader before it writes anything (`| head -0`). */
function runWithClosedStdout(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: home.env, cwd: home.dir })
    child.stdout.destroy()
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout: '', stderr }))
    child.stdin.end()
  })
}

describe('a closed pipe', () => {
  it.each([
    [['--store', 'memory:', 'connections', '--json']],
    [['--store', 'memory:', 'apps', 'list', '--json']],
    [['--help']],
  ])('innkeeper %j | head -0 exits quietly', async (args) => {
    const result = await runWithClosedStdout(args)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })
})

describe('credentials in URLs', () => {
  const SECRET = 'hunter2-url-password'

  it.each([
    ['--base-url', 'https://user:SECRET@api.example.com'],
    ['--token-url', 'https://user:SECRET@api.example.com/oauth/token'],
    ['--api-url', 'https://:SECRET@api.example.com/api'],
    ['--authorize-url', 'https://user:SECRET@api.example.com/oauth/authorize'],
    ['--revoke-url', 'https://user:SECRET@api.example.com/oauth/revoke'],
    ['--redirect-uri', 'https://user:SECRET@app.example.com/callback'],
  ])('apps add refuses %s with user:password in it and stores nothing', async (flag, url) => {
    const base = flag === '--base-url' ? [] : ['--base-url', 'https://api.example.com']
    const result = await home.run(
      [
        'apps',
        'add',
        'creds',
        '--provider',
        'oauth2',
        '--client-id',
        'id',
        '--client-secret-stdin',
        ...base,
        '--token-url',
        'https://api.example.com/oauth/token',
        '--api-url',
        'https://api.example.com/api',
        flag,
        url.replace('SECRET', SECRET),
      ],
      'secret\n',
    )
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain('refuses credentials in URLs')
    expect(result.stderr).not.toContain(SECRET)
    const listed = await home.run(['apps', 'list', '--json'])
    expect(listed.stdout).not.toContain(SECRET)
    expect(JSON.parse(listed.stdout)).toEqual([])
  })

  it('webhooks add refuses a receiver URL with credentials', async () => {
    const result = await home.run(['webhooks', 'add', `https://user:${SECRET}@hooks.example.com/x`])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain('refuses credentials in URLs')
    expect(result.stderr).not.toContain(SECRET)
    expect((await home.run(['webhooks', 'list', '--json'])).stdout).not.toContain(SECRET)
  })

  it('doctor on an unreachable Redis store shows where it is, but not its password or credential parameters', async () => {
    const store = `redis://:${SECRET}@127.0.0.1:1/0?password=${SECRET}-param&token=${SECRET}-token&prefix=x:`
    const result = await home.run(['--store', store, 'doctor', '--json'])
    expect(result.code, result.stderr).toBe(1)
    const output = `${result.stdout}${result.stderr}`
    expect(output).toContain('127.0.0.1:1')
    expect(output).toContain('password=***')
    expect(output).not.toContain(SECRET)
  })
})

describe('a store that does not exist', () => {
  const readOnly = [
    ['connections'],
    ['connections', '--json'],
    ['show', 'app/main'],
    ['token', 'app/main'],
    ['refresh', 'app/main'],
    ['apps', 'list'],
    ['webhooks', 'list'],
    ['audit'],
    ['keys', 'list'],
    ['doctor'],
  ]

  it.each(readOnly)('innkeeper %s says so and creates nothing', async (...args: string[]) => {
    const missing = join(home.dir, 'nonexistent', 'dir')
    const env = { ...home.env, INNKEEPER_HOME: join(home.dir, 'nonexistent-home') }
    const result = await runIn(env, ['--store', `sqlite:${join(missing, 'x.db')}`, ...args])
    expect(result.code, result.stderr).toBe(args[0] === 'doctor' ? 1 : 2)
    expect(`${result.stdout}${result.stderr}`).toContain(`There is no store at ${join(missing, 'x.db')}`)
    expect(existsSync(join(home.dir, 'nonexistent'))).toBe(false)
    expect(existsSync(join(home.dir, 'nonexistent-home'))).toBe(false)
  })

  it('the default store before its first use reads as empty and is not created', async () => {
    const fresh = join(home.dir, 'fresh-home')
    const env: NodeJS.ProcessEnv = { ...home.env, INNKEEPER_HOME: fresh }
    delete env.INNKEEPER_STORE
    const result = await runIn(env, ['connections'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('No connections yet')
    expect(existsSync(fresh)).toBe(false)
  })

  it('a command that writes (apps add) creates it', async () => {
    const path = join(home.dir, 'created', 'x.db')
    const result = await runIn(
      home.env,
      [
        '--store',
        `sqlite:${path}`,
        'apps',
        'add',
        'one',
        '--provider',
        'oauth2',
        '--client-id',
        'id',
        '--client-secret-stdin',
        '--token-url',
        'https://api.example.com/oauth/token',
        '--api-url',
        'https://api.example.com/api',
      ],
      'secret\n',
    )
    expect(result.code, result.stderr).toBe(0)
    expect(existsSync(path)).toBe(true)
    expect((await runIn(home.env, ['--store', `sqlite:${path}`, 'apps', 'list'])).stdout).toContain('one')
  })
})

function runIn(env: NodeJS.ProcessEnv, args: string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd: home.dir })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}
