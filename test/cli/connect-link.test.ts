// `innkeeper connect-link` and the return-URL allow-list flags: the link is written into the
// store `innkeeper serve` uses and printed with the public URL; the service started on that store
// then shows the link's page, once. Missing public URL and foreign return URLs are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'

let emulator: EmulatorHandle
let home: Home

beforeAll(async () => {
  emulator = await startEmulator('smily')
  home = makeHome()
  await addApp(home, 'smily', 'smily', emulator, [
    '--scope',
    'public rentals_read',
    '--return-url-allow',
    'https://app.example/first/',
  ])
})
afterAll(async () => {
  await emulator.close()
  home.close()
})

function serveOrigin(child: { stdout: NodeJS.ReadableStream }): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`no start line: ${seen}`)), 60_000)
    child.stdout.on('data', (chunk: string) => {
      seen += chunk
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })
}

describe('innkeeper connect-link', () => {
  it('apps set replaces the allow-list; apps list --json shows it', async () => {
    const set = await home.run([
      'apps',
      'set',
      'smily',
      '--return-url-allow',
      'https://app.example/innkeeper/',
      '--return-url-allow',
      'https://admin.app.example/back',
    ])
    expect(set.code, set.stderr).toBe(0)
    const listed = JSON.parse((await home.run(['apps', 'list', '--json'])).stdout)
    expect(listed[0].returnUrls).toEqual(['https://app.example/innkeeper/', 'https://admin.app.example/back'])
    const insecure = await home.run(['apps', 'set', 'smily', '--return-url-allow', 'http://app.example/x'])
    expect(insecure.code).not.toBe(0)
    expect(insecure.stderr).toMatch(/HTTPS/)
  })

  it('prints a link on the public URL that the service on the same store serves', async () => {
    const refused = await home.run(['connect-link', 'smily'], '')
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('--public-url')
    const foreign = await home.run([
      'connect-link',
      'smily',
      '--return-url',
      'https://evil.example/innkeeper/',
      '--public-url',
      'https://keys.example.com',
    ])
    expect(foreign.code).not.toBe(0)
    expect(foreign.stderr).toContain('allow-list')

    const serve = home.start(['serve', '--port', '0'])
    try {
      const origin = await serveOrigin(serve.child)
      const made = await home.run([
        'connect-link',
        'smily',
        '--name',
        'guest-1',
        '--return-url',
        'https://app.example/innkeeper/done',
        '--public-url',
        origin,
        '--json',
      ])
      expect(made.code, made.stderr).toBe(0)
      const link = JSON.parse(made.stdout)
      expect(link.url).toMatch(new RegExp(`^${origin}/connect/ikc_[A-Za-z0-9_-]{43}$`))
      expect(link.connectionId).toBe('smily/guest-1')
      const page = await fetch(link.url)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('Connect your BookingSync (Smily) account')

      const plain = await home.run(['connect-link', 'smily', '--public-url', 'https://keys.example.com/'])
      expect(plain.code, plain.stderr).toBe(0)
      expect(plain.stdout).toMatch(/^https:\/\/keys\.example\.com\/connect\/ikc_[A-Za-z0-9_-]{43}\n$/)
    } finally {
      serve.child.kill('SIGTERM')
      await serve.done
    }
  })
})
