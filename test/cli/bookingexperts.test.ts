// Booking Experts from a terminal: `connect --listen` receives the platform's redirect on a
// loopback callback server (the test plays the browser: approves, then follows the redirect),
// the subscription is shown, and an expired token is refreshed once by `request`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'

let emulator: EmulatorHandle
let home: Home

beforeAll(async () => {
  emulator = await startEmulator('bookingexperts')
  home = makeHome()
  await addApp(home, 'experts', 'bookingexperts', emulator)
})
afterAll(async () => {
  await emulator.close()
  home.close()
})

describe('Booking Experts from the CLI', () => {
  it('connects with --listen: the redirect lands on the loopback listener, which completes it', async () => {
    const connect = home.start(['connect', 'experts', '--listen'])
    const url = await connect.firstLine
    const redirectUri = new URL(url).searchParams.get('redirect_uri')!
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    const consent = await answerConsent(url)
    expect(consent.location?.startsWith(redirectUri)).toBe(true)
    const page = await fetch(consent.location!)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Innkeeper connected experts/main')
    const result = await connect.done
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Connected experts/main')
    expect(result.stdout).toMatch(/subscriptionId: \S+/)
    expect(result.stdout).toMatch(/administrationIds: \S+/)
  })

  it('shows the failure page and exits 3 when the owner denies access', async () => {
    const connect = home.start(['connect', 'experts', '--name', 'denied', '--listen', '0'])
    const url = await connect.firstLine
    const consent = await answerConsent(url, 'deny')
    const page = await fetch(consent.location!)
    expect(page.status).toBe(400)
    expect(await page.text()).toContain('did not grant access')
    const result = await connect.done
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/^innkeeper: The account owner did not grant access/m)
  })

  it('refreshes once when the API says the 7-day token expired, and prints the answer', async () => {
    emulator.advance(604_800 + 60)
    const result = await home.run(['request', 'experts/main', 'GET', '/v3/administrations'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(Array.isArray(JSON.parse(result.stdout).data)).toBe(true)
    expect(emulator.stats().tokenRequests.refresh_token).toBe(1)
    const shown = JSON.parse((await home.run(['show', 'experts/main', '--json'])).stdout)
    // The refresh answer said `expires: 3600`, not `expires_in`.
    expect(shown.accessTokenExpiresAt - Date.now()).toBeLessThanOrEqual(3_600_000)
    expect(shown.metadata.subscriptionId).toBeTruthy()
  })
})

describe('Booking Experts API keys from the CLI', () => {
  it('connects with --api-key-stdin, requests with the key, prints it with token, and never shows it otherwise', async () => {
    const key = emulator.info.apiKey!
    const connected = await home.run(['connect', 'experts', '--name', 'key', '--api-key-stdin'], `${key}\n`)
    expect(connected.stderr).toBe('')
    expect(connected.code).toBe(0)
    expect(connected.stdout).toContain('Connected experts/key')
    expect(connected.stdout).toContain('X-API-KEY')
    expect(connected.stdout).not.toContain(key)

    const request = await home.run(['request', 'experts/key', 'GET', '/v3/administrations'])
    expect(request.code).toBe(0)
    expect(JSON.parse(request.stdout).data.map((a: { id: string }) => a.id)).toEqual(['1001', '1002'])
    const shown = await home.run(['show', 'experts/key', '--json'])
    expect(shown.stdout).not.toContain(key)
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'active', metadata: { grant: 'api_key' } })
    expect((await home.run(['token', 'experts/key'])).stdout).toBe(`${key}\n`)
  })

  it('warns when the key is given on the command line, and refuses it next to --listen', async () => {
    const key = emulator.info.apiKey!
    const onArgv = await home.run(['connect', 'experts', '--name', 'argv', '--api-key', key])
    expect(onArgv.code).toBe(0)
    expect(onArgv.stderr).toContain('--api-key-stdin')
    const clash = await home.run(
      ['connect', 'experts', '--name', 'x', '--api-key-stdin', '--listen'],
      `${key}\n`,
    )
    expect(clash.code).toBe(2)
    expect(clash.stderr).toContain('drop --listen')
  })

  it('exits 4 for a key the platform refuses, and stores nothing', async () => {
    const result = await home.run(['connect', 'experts', '--name', 'bad', '--api-key-stdin'], 'not-the-key\n')
    expect(result.code).toBe(4)
    expect(result.stderr).toContain('refused the API key')
    const list = await home.run(['connections', '--json'])
    expect(list.stdout).not.toContain('experts/bad')
  })
})
