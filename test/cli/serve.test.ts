// `innkeeper serve` as an operator runs it: it starts on the given store, answers health checks,
// and on SIGTERM closes the server and the store and exits 0.
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { type Home, makeHome } from '../support/cli.js'

function startedOrigin(child: { stderr: NodeJS.ReadableStream }): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`no start line; stderr: ${seen}`)), 60_000)
    child.stderr.on('data', (chunk: string) => {
      seen += chunk
      const match = /serving on (http:\/\/127\.0\.0\.1:\d+)\//.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })
}

/** The status of `GET path` sent with the given Host header. */
function statusWithHost(origin: string, path: string, host: string): Promise<number> {
  const url = new URL(path, origin)
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, path: url.pathname, headers: { host } },
      (answer) => {
        answer.resume()
        answer.on('end', () => resolve(answer.statusCode ?? 0))
      },
    )
    outgoing.on('error', reject)
    outgoing.end()
  })
}

let home: Home | undefined
afterEach(() => home?.close())

describe('innkeeper serve', () => {
  it('serves health checks and shuts down cleanly on SIGTERM', async () => {
    home = makeHome()
    const running = home.start(['serve', '--port', '0'])
    const origin = await startedOrigin(running.child)
    expect((await fetch(`${origin}/healthz`)).status).toBe(200)
    expect((await fetch(`${origin}/readyz`)).status).toBe(200)
    running.child.kill('SIGTERM')
    const result = await running.done
    expect(result.code).toBe(0)
    // One structured log line per request, JSON, on stdout.
    const lines = result.stdout.trim().split('\n').filter(Boolean)
    expect(lines.some((line) => JSON.parse(line).req?.url === '/healthz')).toBe(true)
  })
  it('answers only its own host names: --allowed-host (repeatable) and --public-url add to localhost', async () => {
    home = makeHome()
    const running = home.start([
      'serve',
      '--port',
      '0',
      '--allowed-host',
      'keys.internal',
      '--allowed-host',
      'lb.internal:8080',
      '--public-url',
      'https://keys.example.com',
    ])
    // The start line shows the public URL; the address is needed to reach the process.
    const origin = await new Promise<string>((resolve, reject) => {
      let seen = ''
      const timer = setTimeout(() => reject(new Error(`no start line; stderr: ${seen}`)), 60_000)
      running.child.stdout.on('data', (chunk: string) => {
        seen += chunk
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    })
    for (const host of [
      'keys.internal',
      'lb.internal',
      'keys.example.com',
      'localhost',
      new URL(origin).host,
    ])
      expect(await statusWithHost(origin, '/healthz', host), host).toBe(200)
    expect(await statusWithHost(origin, '/healthz', 'rebind.attacker.example')).toBe(421)
    running.child.kill('SIGTERM')
    expect((await running.done).code).toBe(0)
  })
})
