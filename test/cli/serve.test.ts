// `innkeeper serve` as an operator runs it: it starts on the given store, answers health checks,
// and on SIGTERM closes the server and the store and exits 0.
import { afterEach, describe, expect, it } from 'vitest'
import { type Home, makeHome } from './cli.js'

let home: Home | undefined
afterEach(() => home?.close())

describe('innkeeper serve', () => {
  it('serves health checks and shuts down cleanly on SIGTERM', async () => {
    home = makeHome()
    const running = home.start(['serve', '--port', '0'])
    const origin = await new Promise<string>((resolve, reject) => {
      let seen = ''
      const timer = setTimeout(() => reject(new Error(`no start line; stderr: ${seen}`)), 15_000)
      running.child.stderr.on('data', (chunk: string) => {
        seen += chunk
        const match = /serving on (http:\/\/127\.0\.0\.1:\d+)\//.exec(seen)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    })
    expect((await fetch(`${origin}/healthz`)).status).toBe(200)
    expect((await fetch(`${origin}/readyz`)).status).toBe(200)
    running.child.kill('SIGTERM')
    const result = await running.done
    expect(result.code).toBe(0)
    // One structured log line per request, JSON, on stdout.
    const lines = result.stdout.trim().split('\n').filter(Boolean)
    expect(lines.some((line) => JSON.parse(line).req?.url === '/healthz')).toBe(true)
  })
})
