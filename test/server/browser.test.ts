// The operator's path through the dashboard in headless Chromium (Debian's, via playwright-core):
// log in, connect BookingSync through the out-of-band form (consent in a new tab, code pasted
// back) and Booking Experts through the redirect, see both on the dashboard, and save a
// screenshot. A framed connect page sends the top window to the consent page. Booking Experts
// also connects with an API key typed into a masked field, and that key is replaced from the
// connection's page.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulators } from '../../src/emulators/index.js'
import { Innkeeper } from '../../src/index.js'
import { createServer } from '../../src/server/server.js'
import { launchChromium, runBrowserTests } from '../support/chromium.js'
import { appFor, TEST_KEYS } from '../support/keeper.js'

const PASSWORD = 'correct horse battery staple'

describe.runIf(runBrowserTests)('the dashboard in a browser', () => {
  let dir: string
  let keeper: Innkeeper
  let emulators: EmulatorHandle[]
  let server: FastifyInstance
  let framer: Server
  let framerOrigin: string
  let baseUrl: string
  let browser: Browser
  const cspViolations: string[] = []

  beforeAll(async () => {
    browser = await launchChromium()
    dir = mkdtempSync(join(tmpdir(), 'innkeeper-browser-'))
    keeper = await Innkeeper.open({
      store: `sqlite:${join(dir, 'innkeeper.db')}`,
      keys: TEST_KEYS,
      home: dir,
    })
    emulators = await startEmulators(['bookingsync', 'bookingexperts'])
    // Another site that embeds the dashboard (an App Center iframe).
    framer = createHttpServer((request, response) => {
      const target = new URL(request.url ?? '/', 'http://x').searchParams.get('src') ?? ''
      response.setHeader('content-type', 'text/html')
      response.end(
        `<!doctype html><title>embedding app</title><iframe id="embedded" src="${target}" width="1000" height="700"></iframe>`,
      )
    })
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve))
    const framerAddress = framer.address()
    framerOrigin = `http://127.0.0.1:${typeof framerAddress === 'object' && framerAddress ? framerAddress.port : 0}`
    server = await createServer({
      keeper,
      adminPassword: PASSWORD,
      logger: false,
      frameAncestors: [framerOrigin],
    })
    await server.listen({ host: '127.0.0.1', port: 0 })
    const address = server.server.address()
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    const [bookingsync, bookingexperts] = emulators as [EmulatorHandle, EmulatorHandle]
    await keeper.apps.add('smily', appFor(bookingsync, 'bookingsync', { scopes: ['public', 'rentals_read'] }))
    await keeper.apps.add(
      'experts',
      appFor(bookingexperts, 'bookingexperts', { redirectUri: `${baseUrl}/callback` }),
    )
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await new Promise((resolve) => framer?.close(resolve))
    await Promise.all((emulators ?? []).map((handle) => handle.close()))
    await keeper?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function loggedInPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
    })
    await page.goto(`${baseUrl}/`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await page.fill('#password', PASSWORD)
    await Promise.all([page.waitForURL(`${baseUrl}/`), page.click('#login button[type=submit]')])
    return page
  }

  it('refuses a wrong password', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${baseUrl}/login`)
    await page.fill('#password', 'nope')
    await page.click('#login button[type=submit]')
    await expect
      .poll(() => page.locator('#login-error').textContent(), { timeout: 30_000 })
      .toContain('not right')
    await context.close()
  })

  it('connects BookingSync out-of-band and Booking Experts by redirect, and shows both', async () => {
    const page = await loggedInPage()

    // BookingSync: the consent page opens in a new tab and shows the code; paste it back.
    await page.click('#app-smily form.connect button[type=submit]')
    await page.waitForSelector('#connect-oob')
    const [consent] = await Promise.all([page.context().waitForEvent('page'), page.click('#consent-link')])
    await consent.waitForLoadState()
    await consent.click('button[value=approve]')
    const code = (await consent.locator('#authorization_code').textContent())?.trim() ?? ''
    expect(code).not.toBe('')
    await consent.close()
    await page.fill('#code', code)
    await Promise.all([page.waitForURL(/\/\?notice=connected/), page.click('#code-form button[type=submit]')])
    expect(await page.locator('#notice').textContent()).toContain('Connected smily/main')

    // Booking Experts: Connect goes to the consent page, approval comes back to /callback.
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(emulators[1]!.info.authorizeUrl!)),
      page.click('#app-experts form.connect button[type=submit]'),
    ])
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value=approve]')])
    expect(await page.locator('#connection-id').textContent()).toBe('experts/main')
    const returnUrl = await page.locator('#return-link').getAttribute('href')
    expect(returnUrl).toMatch(/^https?:\/\//)

    await page.goto(`${baseUrl}/`)
    for (const id of ['smily/main', 'experts/main']) {
      const row = page.locator(`tr[data-connection="${id}"]`)
      expect(await row.locator('.badge').textContent()).toBe('active')
      expect(await row.locator('time').first().textContent()).toMatch(/^in /)
    }
    mkdirSync('test-artifacts', { recursive: true })
    await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true })
    expect(cspViolations).toEqual([])
    expect((await keeper.connections()).map((connection) => connection.id).sort()).toEqual([
      'experts/main',
      'smily/main',
    ])
    await page.context().close()
  })

  it('sends the top window to the consent page when the connect page is framed', async () => {
    const page = await loggedInPage()
    await page.goto(`${framerOrigin}/?src=${encodeURIComponent(`${baseUrl}/`)}`)
    const frame = page.frameLocator('#embedded')
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(emulators[1]!.info.authorizeUrl!)),
      frame.locator('#app-experts form.connect button[type=submit]').click(),
    ])
    expect(await page.locator('button[value=approve]').count()).toBe(1)
    await page.context().close()
  })

  it('disconnects from the dashboard', async () => {
    const page = await loggedInPage()
    await Promise.all([
      page.waitForURL(/notice=forgotten/),
      page.click('tr[data-connection="smily/main"] button.danger'),
    ])
    // BookingSync has no revocation endpoint: the notice says the grant is still valid there.
    expect(await page.textContent('body')).toContain('so it may still be valid there')
    expect(await page.locator('tr[data-connection="smily/main"]').count()).toBe(0)
    expect(await page.locator('tr[data-connection="experts/main"]').count()).toBe(1)
    await page.context().close()
  })

  it('connects Booking Experts with an API key typed into a masked field', async () => {
    const page = await loggedInPage()
    const key = emulators[1]!.info.apiKey!
    const form = page.locator('#app-experts form.api-key')
    expect(await form.locator('input[name=apiKey]').getAttribute('type')).toBe('password')
    await form.locator('input[name=name]').fill('key')
    await form.locator('input[name=apiKey]').fill(key)
    await Promise.all([page.waitForURL(/\/\?notice=connected/), form.locator('button[type=submit]').click()])
    expect(await page.locator('#notice').textContent()).toContain('Connected experts/key')
    expect(await page.locator('tr[data-connection="experts/key"] .badge').textContent()).toBe('active')
    expect(page.url()).not.toContain(key)
    expect(await page.content()).not.toContain(key)
    expect(cspViolations).toEqual([])
    await page.context().close()
  })

  it('replaces that connection’s API key from its page through a masked field, instead of Reconnect', async () => {
    const page = await loggedInPage()
    const registered = await fetch(`${emulators[1]!.info.adminUrl}/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    const newKey = ((await registered.json()) as { apiKey: string }).apiKey
    await page.goto(`${baseUrl}/connections/experts/key`)
    expect(await page.getByRole('button', { name: 'Reconnect' }).count()).toBe(0)
    const form = page.locator('form.replace-api-key')
    expect(await form.locator('input[name=apiKey]').getAttribute('type')).toBe('password')
    await form.locator('input[name=apiKey]').fill(newKey)
    await Promise.all([page.waitForURL(/\/\?notice=key_replaced/), form.getByRole('button').click()])
    expect(await page.locator('#notice').textContent()).toContain('Replaced the API key of experts/key')
    expect(page.url()).not.toContain(newKey)
    expect(await page.content()).not.toContain(newKey)
    expect(await keeper.connection('experts/key').accessToken()).toBe(newKey)
    expect(cspViolations).toEqual([])
    await page.context().close()
  })
})
