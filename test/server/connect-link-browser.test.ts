// Connect links end to end in headless Chromium (Debian's, via playwright-core), as an end user of
// a product built on Innkeeper: the product's backend creates a session with its API key, the
// person opens the link (no operator login), consents on the emulator — BookingSync out of band
// (code pasted back), Booking Experts by redirect or with a pasted API key — and lands on the product's return URL with
// connection=<id>; the connection hands out tokens, the connection.created webhook arrives and the
// audit trail names the API key. Used, expired and forged links get a clear page and change nothing.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulators } from '../../src/emulators/index.js'
import { Innkeeper } from '../../src/index.js'
import { createApiKey } from '../../src/server/api-keys.js'
import { createServer } from '../../src/server/server.js'
import type { WebhookDispatcher } from '../../src/webhooks/dispatcher.js'
import { launchChromium, runBrowserTests } from '../support/chromium.js'
import { appFor, TEST_KEYS } from '../support/keeper.js'
import { startReceiver, type TestReceiver } from '../webhooks/receiver.js'

describe.runIf(runBrowserTests)('connect links in a browser', () => {
  let dir: string
  let keeper: Innkeeper
  let emulators: EmulatorHandle[]
  let server: FastifyInstance
  let product: Server
  let productOrigin: string
  let baseUrl: string
  let browser: Browser
  let receiver: TestReceiver
  let dispatcher: WebhookDispatcher
  let apiKey: string
  let apiKeyId: string
  let offset = 0
  const cspViolations: string[] = []

  beforeAll(async () => {
    browser = await launchChromium()
    dir = mkdtempSync(join(tmpdir(), 'innkeeper-connect-link-'))
    keeper = await Innkeeper.open({
      store: `sqlite:${join(dir, 'innkeeper.db')}`,
      keys: TEST_KEYS,
      home: dir,
      now: () => Date.now() + offset,
      allowPrivateWebhooks: true,
    })
    emulators = await startEmulators(['bookingsync', 'bookingexperts'])
    // The product the end user comes from and returns to.
    product = createHttpServer((request, response) => {
      response.setHeader('content-type', 'text/html')
      response.end(
        `<!doctype html><title>product</title><h1 id="product">Back in the product</h1><p>${request.url}</p>`,
      )
    })
    await new Promise<void>((resolve) => product.listen(0, '127.0.0.1', resolve))
    const productAddress = product.address()
    productOrigin = `http://127.0.0.1:${typeof productAddress === 'object' && productAddress ? productAddress.port : 0}`
    server = await createServer({ keeper, adminPassword: 'not used by end users', logger: false })
    await server.listen({ host: '127.0.0.1', port: 0 })
    const address = server.server.address()
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    const [bookingsync, bookingexperts] = emulators as [EmulatorHandle, EmulatorHandle]
    const returnUrls = [`${productOrigin}/integrations/`]
    await keeper.apps.add(
      'smily',
      appFor(bookingsync, 'bookingsync', { scopes: ['public', 'rentals_read'], returnUrls }),
    )
    await keeper.apps.add(
      'experts',
      appFor(bookingexperts, 'bookingexperts', { redirectUri: `${baseUrl}/callback`, returnUrls }),
    )
    const created = await createApiKey(keeper.store, 'product-backend')
    apiKey = created.key
    apiKeyId = created.record.id
    receiver = await startReceiver()
    await keeper.webhooks.add(receiver.url, { events: ['connection.created'] })
    dispatcher = keeper.startWebhookDispatcher({ idleMs: 20 })
  })

  afterAll(async () => {
    await browser?.close()
    await dispatcher?.stop()
    await receiver?.close()
    await server?.close()
    await new Promise((resolve) => product?.close(resolve))
    await Promise.all((emulators ?? []).map((handle) => handle.close()))
    await keeper?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  function createSession(body: Record<string, unknown>): Promise<Response> {
    return fetch(`${baseUrl}/api/connect-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  }

  async function newLink(body: Record<string, unknown>): Promise<string> {
    const answer = await createSession(body)
    expect(answer.status).toBe(201)
    return ((await answer.json()) as { url: string }).url
  }

  async function endUserPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 900, height: 800 } })
    const page = await context.newPage()
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
    })
    return page
  }

  async function connectionsNow(): Promise<string[]> {
    return (await keeper.connections()).map((connection) => connection.id).sort()
  }

  let bookingSyncLink = ''

  it('BookingSync: out-of-band consent through the link lands on the return URL, connected', async () => {
    bookingSyncLink = await newLink({
      app: 'smily',
      name: 'guest-bs',
      returnUrl: `${productOrigin}/integrations/done?from=innkeeper`,
    })
    const page = await endUserPage()
    await page.goto(bookingSyncLink)
    expect(await page.locator('h1').textContent()).toContain('Connect your BookingSync')
    expect(await page.locator('form[action="/logout"]').count()).toBe(0)
    mkdirSync('test-artifacts', { recursive: true })
    await page.screenshot({ path: 'test-artifacts/connect-link.png', fullPage: true })
    await page.click('#start')
    await page.waitForSelector('#connect-oob')
    const [consent] = await Promise.all([page.context().waitForEvent('page'), page.click('#consent-link')])
    await consent.waitForLoadState()
    await consent.click('button[value=approve]')
    const code = (await consent.locator('#authorization_code').textContent())?.trim() ?? ''
    expect(code).not.toBe('')
    await consent.close()
    await page.fill('#code', code)
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(`${productOrigin}/integrations/done`)),
      page.click('#code-form button[type=submit]'),
    ])
    const landed = new URL(page.url())
    expect(landed.searchParams.get('connection')).toBe('smily/guest-bs')
    expect(landed.searchParams.get('from')).toBe('innkeeper')
    expect(await page.locator('#product').textContent()).toBe('Back in the product')

    // The connection works: the token API hands out a token.
    const token = await fetch(`${baseUrl}/api/connections/smily%2Fguest-bs/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
    })
    expect(token.status).toBe(200)
    expect(((await token.json()) as { accessToken: string }).accessToken).toMatch(/\S/)
    // The webhook arrived, and the audit trail names the API key.
    const [delivery] = await receiver.waitForAccepted(1)
    expect(JSON.parse(delivery!.body)).toMatchObject({
      type: 'connection.created',
      connection: { id: 'smily/guest-bs', state: 'active' },
    })
    const audit = await keeper.audit.list({ connection: 'smily/guest-bs' })
    expect(audit.find((entry) => entry.action === 'connection.connected')?.actor).toBe(`api-key:${apiKeyId}`)
    await page.context().close()
  })

  it('Booking Experts: consent by redirect comes back through /callback to the return URL', async () => {
    const link = await newLink({
      app: 'experts',
      name: 'guest-be',
      returnUrl: `${productOrigin}/integrations/`,
    })
    const page = await endUserPage()
    await page.goto(link)
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(emulators[1]!.info.authorizeUrl!)),
      page.click('#start'),
    ])
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(`${productOrigin}/integrations/`)),
      page.click('button[value=approve]'),
    ])
    expect(new URL(page.url()).searchParams.get('connection')).toBe('experts/guest-be')
    expect((await keeper.connection('experts/guest-be').info()).state).toBe('active')
    const deliveries = await receiver.waitForAccepted(2)
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).connection.id)).toContain(
      'experts/guest-be',
    )
    const audit = await keeper.audit.list({ connection: 'experts/guest-be' })
    expect(audit.find((entry) => entry.action === 'connection.connected')?.actor).toBe(`api-key:${apiKeyId}`)
    await page.context().close()
  })

  it('a used link, a forged one and an expired one get a clear page and change nothing', async () => {
    const before = await connectionsNow()
    const page = await endUserPage()

    await page.goto(bookingSyncLink)
    expect(await page.locator('#link-refused').getAttribute('data-reason')).toBe('used')
    expect(await page.locator('h1').textContent()).toContain('already used')
    expect(await page.locator('#start').count()).toBe(0)

    await page.goto(`${baseUrl}/connect/ikc_${'x'.repeat(43)}`)
    expect(await page.locator('#link-refused').getAttribute('data-reason')).toBe('unknown')

    const expiring = await newLink({ app: 'smily', name: 'late-guest', expiresIn: 60 })
    await page.goto(expiring)
    expect(await page.locator('#start').count()).toBe(1)
    offset += 61_000
    await page.click('#start') // the page was open when the link ran out
    expect(await page.locator('#link-refused').getAttribute('data-reason')).toBe('expired')
    await page.goto(expiring)
    expect(await page.locator('h1').textContent()).toContain('expired')
    expect(await page.textContent('body')).toContain('Nothing was changed')

    expect(await connectionsNow()).toEqual(before)
    expect(receiver.deliveries.filter((delivery) => delivery.status === 200)).toHaveLength(2)
    expect(cspViolations).toEqual([])
    await page.context().close()
  })

  it('Booking Experts: an API key pasted on the link connects at once, after a refused one left the link usable', async () => {
    const link = await newLink({
      app: 'experts',
      name: 'key-be',
      returnUrl: `${productOrigin}/integrations/`,
    })
    const key = emulators[1]!.info.apiKey ?? ''
    const page = await endUserPage()
    await page.goto(link)
    expect(await page.locator('#start').count()).toBe(1)
    await page.fill('#api-key', 'wrong-key-0a1b2c3d4e5f')
    await page.click('#connect-api-key')
    expect(await page.locator('#link-failed').getAttribute('data-link-usable')).toBe('yes')
    expect(await page.textContent('#link-failed')).toContain('Check that you copied the whole key')
    await page.click('#try-again')
    await page.fill('#api-key', key)
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(`${productOrigin}/integrations/`)),
      page.click('#connect-api-key'),
    ])
    expect(new URL(page.url()).searchParams.get('connection')).toBe('experts/key-be')
    expect(page.url()).not.toContain(key)
    const token = await fetch(`${baseUrl}/api/connections/experts%2Fkey-be/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
    })
    expect(await token.json()).toMatchObject({ kind: 'api_key', header: { name: 'x-api-key', value: key } })
    expect(cspViolations).toEqual([])
    await page.context().close()
  })

  it('a return URL outside the app allow-list is refused when the link is made', async () => {
    const refused = await createSession({
      app: 'smily',
      returnUrl: 'https://elsewhere.example/integrations/',
    })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('allow-list')
  })
})
