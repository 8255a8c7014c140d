// The CLI under an unlucky operator: a reader that closes the pipe early, a store path that does
// not exist for a command that only reads, and URLs that carry credentials.
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, type Home, makeHome, type Result } from './cli.js'

let home: Home

beforeAll(() => {
  home = makeHome()
})
afterAll(() => {
  home.close()
})

/** Runs the CLI with its stdout closed by the reader before it writes anything (`| head -0`). */
function runWithClosedStdout(args: string[]): Promise<Result> {
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
})
