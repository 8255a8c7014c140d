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
