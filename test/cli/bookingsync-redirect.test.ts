// BookingSync connections made from a terminal on a redirect URI other than the app's (a
// `--listen` loopback listener, a `--redirect-uri`): every later refresh, by `refresh` or by a
// `worker` in its own process, repeats that connection's redirect_uri, as the platform requires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'

let emulator: EmulatorHandle
let home: Home

beforeAll(async () => {
  emulator = await startEmulator('smily')
  home = makeHome()
  // Keep-alive 1 s: the connection is due at once, so a `worker --once` refreshes it for real.
  await addApp(home, 'smily', 'smily', emulator, ['--scope', 'public rentals_read', '--keep-alive', '1'])
})
afterAll(async () => {
  await emulator.close()
  home.close()
})

async function families() {
  const answer = await fetch(`${emulator.info.adminUrl}/families`)
  return ((await answer.json()) as { families: Array<{ redirectUri: string; refreshCount: number }> })
    .families
}

describe('BookingSync connections on their own redirect URI, from the CLI', () => {
  it('connect --listen, then refresh and worker in other processes: still active', async () => {
    const connect = home.start(['connect', 'smily', '--listen'])
    const url = await connect.firstLine
    const redirectUri = new URL(url).searchParams.get('redirect_uri')!
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    const consent = await answerConsent(url)
    expect((await fetch(consent.location!)).status).toBe(200)
    const connected = await connect.done
    expect(connected.code, connected.stderr).toBe(0)

    emulator.advance(7200 + 60)
    const refreshed = await home.run(['refresh', 'smily/main'])
    expect(refreshed.code, refreshed.stderr).toBe(0)
    expect(refreshed.stdout).toContain('Refreshed smily/main')

    await new Promise((resolve) => setTimeout(resolve, 1_500)) // let the 1 s keep-alive fall due
    const worker = await home.run(['worker', '--once'])
    expect(worker.code, worker.stderr).toBe(0)

    const shown = JSON.parse((await home.run(['show', 'smily/main', '--json'])).stdout)
    expect(shown.state).toBe('active')
    expect(shown.metadata.redirectUri).toBe(redirectUri)
    expect(emulator.stats().tokenErrors.invalid_grant).toBeUndefined()
    expect((await families()).find((family) => family.redirectUri === redirectUri)).toMatchObject({
      refreshCount: 2,
    })
  })

  it('connect --redirect-uri with the callback address pasted, then refresh: still active', async () => {
    const callback = 'http://127.0.0.1:9/smily/callback'
    const connect = home.start(['connect', 'smily', '--name', 'web', '--redirect-uri', callback])
    const url = await connect.firstLine
    expect(new URL(url).searchParams.get('redirect_uri')).toBe(callback)
    const consent = await answerConsent(url)
    connect.child.stdin.end(`${consent.location}\n`)
    const connected = await connect.done
    expect(connected.code, connected.stderr).toBe(0)

    emulator.advance(7200 + 60)
    const refreshed = await home.run(['refresh', 'smily/web'])
    expect(refreshed.code, refreshed.stderr).toBe(0)
    const request = await home.run(['request', 'smily/web', 'GET', '/rentals'])
    expect(request.code, request.stderr).toBe(0)
    expect(emulator.stats().tokenErrors.invalid_grant).toBeUndefined()
    expect((await families()).find((family) => family.redirectUri === callback)).toMatchObject({
      refreshCount: 1,
    })
  })
})
