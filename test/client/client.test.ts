// `innkeeper/client` against a real `innkeeper serve` (createServer on a port) and the BookingSync
// emulator: a token obtained, connections listed, a webhook receiver added and removed, a proxied
// call made, and Innkeeper's refusals raised as InnkeeperApiError with the service's code.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, InnkeeperApiError } from '../../src/client/index.js'
import { connectBookingSync, type ServerFixture, startServer } from '../server/support.js'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'

let f: ServerFixture
afterEach(async () => f?.close())

async function connected(): Promise<ServerFixture> {
  f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
  await connectBookingSync(f)
  return f
}

describe('createClient', () => {
  it('lists connections and reads one, typed by the generated schema', async () => {
    await connected()
    const client = createClient({ baseUrl: f.baseUrl, apiKey: f.apiKey })
    const connections = await client.connections.list()
    expect(connections.map((connection) => connection.id)).toEqual(['acme-bs/main'])
    const connection = await client.connections.get('acme-bs/main')
    expect(connection).toMatchObject({ app: 'acme-bs', name: 'main', state: 'active', hasRefreshToken: true })
  })

  it('obtains a valid access token, renewed once it expired', async () => {
    await connected()
    const client = createClient({ baseUrl: `${f.baseUrl}/`, apiKey: f.apiKey })
    const first = await client.connections.token('acme-bs/main')
    expect(first.kind).toBe('access_token')
    expect(first.accessToken).toEqual(expect.any(String))
    expect(first.expiresAt).toBeGreaterThan(f.now())
    f.advance(7200 + 1)
    const second = await client.connections.token('acme-bs/main')
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(f.emulator.stats().tokenRequests.refresh_token).toBe(1)
    const refreshed = await client.connections.refresh('acme-bs/main')
    expect(refreshed.lastRefreshAt).toEqual(expect.any(Number))
  })

  it('adds a webhook receiver (its secret answered once), lists it, and removes it', async () => {
    await connected()
    const client = createClient({ baseUrl: f.baseUrl, apiKey: f.apiKey })
    const added = await client.webhooks.add({
      url: 'http://127.0.0.1:9/hooks',
      events: ['connection.needs_reauth'],
    })
    expect(added.secret).toMatch(/^whsec_/)
    const { webhooks } = await client.webhooks.list()
    expect(webhooks.map((webhook) => webhook.id)).toEqual([added.id])
    expect(JSON.stringify(webhooks)).not.toContain(added.secret)
    await client.webhooks.remove(added.id)
    expect((await client.webhooks.list()).webhooks).toEqual([])
    await expect(client.webhooks.remove(added.id)).rejects.toMatchObject({
      code: 'unknown_webhook',
      status: 404,
    })
  })

  it('creates a single-use connect link for an end user', async () => {
    await connected()
    const client = createClient({ baseUrl: f.baseUrl, apiKey: f.apiKey })
    const session = await client.connectSessions.create({ app: 'acme-bs', name: 'guest-42' })
    expect(session.connectionId).toBe('acme-bs/guest-42')
    expect(session.url.startsWith(`${f.baseUrl}/`)).toBe(true)
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(f.now())
    const page = await fetch(session.url)
    expect(page.status).toBe(200)
    await expect(client.connectSessions.create({ app: 'nobody' })).rejects.toMatchObject({
      name: 'InnkeeperApiError',
      status: 404,
    })
  })

  it('makes a proxied call and hands back the platform’s answer, its errors included', async () => {
    await connected()
    const client = createClient({ baseUrl: f.baseUrl, apiKey: f.apiKey })
    const rentals = await client.proxy('acme-bs/main', '/rentals?include=photos')
    expect(rentals.status).toBe(200)
    expect(Array.isArray(((await rentals.json()) as { rentals: unknown }).rentals)).toBe(true)
    // The platform’s own 404 is an answer, not an Innkeeper error: it carries the platform’s mark.
    const missing = await client.proxy('acme-bs/main', 'no-such-resource')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('innkeeper-proxied')).toBe('true')
  })

  it('raises InnkeeperApiError with the service’s code: unknown connection, proxy to nobody, wrong key', async () => {
    await connected()
    const client = createClient({ baseUrl: f.baseUrl, apiKey: f.apiKey })
    const unknown = await client.connections.token('nobody/main').catch((error: unknown) => error)
    expect(unknown).toBeInstanceOf(InnkeeperApiError)
    expect(unknown).toMatchObject({ code: 'unknown_connection', status: 404 })
    expect((unknown as Error).message).toMatch(/nobody/)

    await expect(client.proxy('acme-bs/nobody', 'rentals')).rejects.toMatchObject({
      name: 'InnkeeperApiError',
      code: 'unknown_connection',
      status: 404,
    })

    const stranger = createClient({ baseUrl: f.baseUrl, apiKey: 'not-a-key' })
    await expect(stranger.connections.list()).rejects.toMatchObject({ code: 'unauthorized', status: 401 })
  })

  it('raises needs_reauth when the owner uninstalled the app', async () => {
    await connected()
    const client = createClient({ baseUrl: f.baseUrl, apiKey: f.apiKey })
    f.emulator.revokeAll()
    f.advance(7200 + 1)
    await expect(client.connections.token('acme-bs/main')).rejects.toMatchObject({
      code: 'needs_reauth',
      status: 409,
    })
  })
})

describe('the package export', () => {
  it('runs the example of docs/server.md as it is written', async () => {
    f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
    await f.keeper.apps.add('acme', appFor(f.emulator, 'bookingsync', { scopes: ['public', 'rentals_read'] }))
    const start = await f.keeper.connect('acme')
    if (start.kind !== 'authorize') throw new Error('expected an authorization step')
    await start.complete({ code: (await answerConsent(start.url)).code })

    const doc = readFileSync('docs/server.md', 'utf8')
    const section = doc.slice(doc.indexOf('### The client'))
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1]
    expect(example).toContain("from 'innkeeper/client'")
    // From the repository, `innkeeper/client` resolves to this package's built export.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', example ?? ''],
      { env: { ...process.env, INNKEEPER_URL: f.baseUrl, INNKEEPER_API_KEY: f.apiKey } },
    )
    expect(stdout.split('\n')).toEqual([
      'acme/main active',
      "200 [ 'links', 'rentals', 'meta' ]",
      'webhook secret, shown once: true',
      '404 unknown_connection',
      '',
    ])
  })

  it('`innkeeper/client` resolves to the built client', async () => {
    // By name, as an installed package is imported (needs `npm run build`; the test setup builds).
    const specifier = 'innkeeper/client'
    const exported = (await import(specifier)) as Record<string, unknown>
    expect(typeof exported.createClient).toBe('function')
    expect(typeof exported.InnkeeperApiError).toBe('function')
  })
})
