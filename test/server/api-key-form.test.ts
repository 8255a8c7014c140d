// The dashboard's API-key forms over plain HTTP. Connect (POST /apps/:app/api-key): it appears
// only on apps whose provider takes API keys (Booking Experts' X-API-KEY), makes a connection the
// token API and the proxy use against the emulator, keeps the key out of every page and log line,
// shows refused keys, bad names and taken names as the dashboard's other errors, and wants CSRF.
// Replace API key (POST /connections/:app/:name/api-key): offered instead of Reconnect for such a
// connection, checked by the platform before it replaces anything, and as careful with the key.
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'
import { json, type ServerFixture, startServer, Visitor } from './support.js'

const PASSWORD = 'operator-password'

let f: ServerFixture
afterEach(async () => f?.close())

/** A server with a Booking Experts app (`acme-be`) and a BookingSync one (`acme-bs`), logged in. */
async function dashboard(): Promise<{ visitor: Visitor; key: string }> {
  f = await startServer('bookingexperts', { adminPassword: PASSWORD })
  await f.keeper.apps.add(
    'acme-be',
    appFor(f.emulator, 'bookingexperts', { redirectUri: `${f.baseUrl}/callback` }),
  )
  await f.keeper.apps.add('acme-bs', appFor(f.emulator, 'bookingsync'))
  const visitor = new Visitor(f.baseUrl)
  await visitor.login(PASSWORD)
  return { visitor, key: f.emulator.info.apiKey! }
}

/** One app's card on the dashboard. */
function card(page: string, app: string): string {
  const start = page.indexOf(`<section class="card app" id="app-${app}"`)
  return page.slice(start, page.indexOf('</section>', start))
}

describe('the dashboard’s API-key form', () => {
  it('appears only on apps whose provider takes API keys, with a password field left empty', async () => {
    const { visitor } = await dashboard()
    const page = (await visitor.request('/')).text
    const experts = card(page, 'acme-be')
    expect(experts).toContain('action="/apps/acme-be/api-key"')
    expect(experts).toMatch(/<input type="password" name="apiKey" autocomplete="new-password"[^>]*required>/)
    expect(experts).not.toMatch(/name="apiKey"[^>]*value=/)
    expect(experts).toContain('<code>X-API-KEY</code>')
    expect(card(page, 'acme-bs')).not.toContain('api-key')
  })

  it('connects with an API key that the token API and the proxy then use, and never shows or logs the key', async () => {
    const { visitor, key } = await dashboard()
    await visitor.request('/')
    const pages: string[] = []
    const answer = await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: key })
    pages.push(answer.text)
    expect(answer.status).toBe(303)
    expect(answer.headers.get('location')).toBe('/?notice=connected&id=acme-be%2Fkey')

    const after = await visitor.request(answer.headers.get('location')!)
    pages.push(after.text)
    expect(after.text).toContain('Connected acme-be/key.')
    expect(after.text).toMatch(
      /<tr data-connection="acme-be\/key">[\s\S]*?<span class="badge state-active">active<\/span>/,
    )

    const token = await f.api(`/api/connections/${encodeURIComponent('acme-be/key')}/token`, {
      method: 'POST',
    })
    expect(token.status).toBe(200)
    expect(await json(token)).toMatchObject({ kind: 'api_key', header: { name: 'x-api-key', value: key } })
    const proxied = await f.api('/proxy/acme-be/key/v3/administrations')
    expect(proxied.status).toBe(200)
    expect((await json(proxied)).data.map((administration: { id: string }) => administration.id)).toEqual([
      '1001',
      '1002',
    ])
    pages.push((await visitor.request('/connections/acme-be/key')).text)

    for (const text of [...pages, ...f.logs]) expect(text).not.toContain(key)
    expect(f.logs.some((line) => line.includes('/apps/acme-be/api-key'))).toBe(true)
  })

  it('shows a refused key, a bad name and a taken name as errors, keeping nothing new', async () => {
    const { visitor, key } = await dashboard()
    await visitor.request('/')
    const wrong = 'wrong-key-0c1d2e3f4a5b6c7d8e9f'
    const refused = await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: wrong })
    expect(refused.status).toBe(502)
    expect(refused.text).toContain('<code id="error-code">invalid_token</code>')
    expect(refused.text).toContain('Booking Experts refused the API key of acme-be/key')

    await visitor.request('/')
    const badName = await visitor.post('/apps/acme-be/api-key', { name: 'my key', apiKey: key })
    expect(badName.status).toBe(400)
    expect(badName.text).toContain('not a valid connection name')

    await visitor.request('/')
    const empty = await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: '' })
    expect(empty.status).toBe(400)
    expect(empty.text).toContain('The API key is empty')
    expect(await f.keeper.connections()).toEqual([])

    await visitor.request('/')
    expect((await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: key })).status).toBe(303)
    await visitor.request('/')
    const taken = await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: wrong })
    expect(taken.status).toBe(409)
    expect(taken.text).toContain('A connection named acme-be/key already exists; nothing was changed.')
    // The first key still works: the taken name was not overwritten.
    expect((await f.api('/proxy/acme-be/key/v3/administrations')).status).toBe(200)

    for (const text of [refused.text, badName.text, taken.text, ...f.logs]) {
      expect(text).not.toContain(wrong)
      expect(text).not.toContain(key)
    }
  })

  it('refuses the form with a wrong or missing CSRF token', async () => {
    const { visitor, key } = await dashboard()
    await visitor.request('/')
    const forged = await visitor.request('/apps/acme-be/api-key', {
      method: 'POST',
      body: new URLSearchParams({ name: 'key', apiKey: key, _csrf: 'forged-token' }),
    })
    expect(forged.status).toBe(403)
    expect((await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: key }, false)).status).toBe(
      403,
    )
    expect(await f.keeper.connections()).toEqual([])
    expect(forged.text).not.toContain(key)
  })
})

/** The dashboard's row of one connection. */
function row(page: string, id: string): string {
  const start = page.indexOf(`<tr data-connection="${id}">`)
  return page.slice(start, page.indexOf('</tr>', start))
}

/** Registers another key for the demo organization on the emulator, as its owner would. */
async function newEmulatorKey(): Promise<string> {
  const answer = await fetch(`${f.emulator.info.adminUrl}/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  return ((await answer.json()) as { apiKey: string }).apiKey
}

/** Revokes a key on the emulator, as its owner would on the platform. */
async function revokeEmulatorKey(apiKey: string): Promise<void> {
  await fetch(`${f.emulator.info.adminUrl}/api-keys/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiKey }),
  })
}

/** The credential header the token API hands out for a connection. */
async function handedOut(id: string): Promise<{ name: string; value: string }> {
  const answer = await f.api(`/api/connections/${encodeURIComponent(id)}/token`, { method: 'POST' })
  expect(answer.status).toBe(200)
  return (await json(answer)).header
}

describe('Replace API key', () => {
  it('is offered instead of Reconnect for an API-key connection, while an OAuth one keeps Reconnect', async () => {
    const { visitor, key } = await dashboard()
    await f.keeper.connect('acme-be', { name: 'key', apiKey: key })
    const start = await f.keeper.connect('acme-be', { name: 'main' })
    if (start.kind !== 'authorize') throw new Error('expected an authorization step')
    await start.complete({ code: (await answerConsent(start.url)).code })
    f.emulator.revokeAll()
    await f.api('/api/connections/acme-be%2Fmain/refresh', { method: 'POST' })

    const page = (await visitor.request('/')).text
    const keyed = row(page, 'acme-be/key')
    expect(keyed).toContain('action="/connections/acme-be/key/api-key"')
    expect(keyed).toMatch(/<input type="password" name="apiKey" autocomplete="new-password"[^>]*required>/)
    expect(keyed).not.toMatch(/name="apiKey"[^>]*value=/)
    expect(keyed).toContain('Replace API key</button>')
    expect(keyed).not.toContain('Reconnect')
    const oauth = row(page, 'acme-be/main')
    expect(oauth).toContain('state-needs_reauth')
    expect(oauth).toContain('Reconnect</button>')
    expect(oauth).not.toContain('Replace API key')

    const keyedPage = (await visitor.request('/connections/acme-be/key')).text
    expect(keyedPage).toContain('action="/connections/acme-be/key/api-key"')
    expect(keyedPage).toContain('Replace API key</button>')
    expect(keyedPage).not.toContain('Reconnect')
    const oauthPage = (await visitor.request('/connections/acme-be/main')).text
    expect(oauthPage).toContain('Reconnect</button>')
    expect(oauthPage).not.toContain('Replace API key')

    // The route replaces keys only: an OAuth connection is sent to Reconnect, and stays as it was.
    const refused = await visitor.post('/connections/acme-be/main/api-key', { apiKey: key })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('use Reconnect instead')
    expect((await f.keeper.connection('acme-be/main').info()).state).toBe('needs_reauth')
  })

  it('replaces a key revoked on the platform under the same connection id, checked there first', async () => {
    const { visitor, key: oldKey } = await dashboard()
    await visitor.request('/')
    expect((await visitor.post('/apps/acme-be/api-key', { name: 'key', apiKey: oldKey })).status).toBe(303)
    const before = await f.keeper.connection('acme-be/key').info()
    await revokeEmulatorKey(oldKey)
    expect((await f.api('/proxy/acme-be/key/v3/administrations')).status).not.toBe(200)
    const newKey = await newEmulatorKey()

    const pages: string[] = [(await visitor.request('/connections/acme-be/key')).text]
    // The app and name come from the path: fields naming others are ignored.
    const answer = await visitor.post('/connections/acme-be/key/api-key', {
      apiKey: newKey,
      name: 'other',
      app: 'acme-bs',
    })
    pages.push(answer.text)
    expect(answer.status).toBe(303)
    expect(answer.headers.get('location')).toBe('/?notice=key_replaced&id=acme-be%2Fkey')
    const after = await visitor.request(answer.headers.get('location')!)
    pages.push(after.text, (await visitor.request('/connections/acme-be/key')).text)
    expect(after.text).toContain('Replaced the API key of acme-be/key')
    expect(row(after.text, 'acme-be/key')).toContain('state-active')

    const connections = await f.keeper.connections()
    expect(connections.map((connection) => connection.id)).toEqual(['acme-be/key'])
    expect(connections[0]!.createdAt).toBe(before.createdAt)
    expect(await handedOut('acme-be/key')).toEqual({ name: 'x-api-key', value: newKey })
    expect((await f.api('/proxy/acme-be/key/v3/administrations')).status).toBe(200)

    const audit = JSON.stringify(await f.keeper.audit.list({ connection: 'acme-be/key' }))
    for (const text of [...pages, ...f.logs, audit]) {
      expect(text).not.toContain(newKey)
      expect(text).not.toContain(oldKey)
    }
    expect(f.logs.some((line) => line.includes('/connections/acme-be/key/api-key'))).toBe(true)
  })

  it('keeps the old key in use when the platform refuses the new one, and says to check it', async () => {
    const { visitor, key } = await dashboard()
    await f.keeper.connect('acme-be', { name: 'key', apiKey: key })
    await visitor.request('/connections/acme-be/key')
    const wrong = 'wrong-key-9f8e7d6c5b4a39281706'
    const refused = await visitor.post('/connections/acme-be/key/api-key', { apiKey: wrong })
    expect(refused.status).toBe(502)
    expect(refused.text).toContain('<code id="error-code">invalid_token</code>')
    expect(refused.text).toContain(
      'Booking Experts refused the new API key for acme-be/key, so nothing was replaced: the old key is still the one in use. Check the new key',
    )
    expect(await handedOut('acme-be/key')).toEqual({ name: 'x-api-key', value: key })
    expect((await f.api('/proxy/acme-be/key/v3/administrations')).status).toBe(200)

    await visitor.request('/connections/acme-be/key')
    const empty = await visitor.post('/connections/acme-be/key/api-key', { apiKey: '' })
    expect(empty.status).toBe(400)
    expect(empty.text).toContain('The API key is empty')
    expect(await handedOut('acme-be/key')).toEqual({ name: 'x-api-key', value: key })

    const audit = JSON.stringify(await f.keeper.audit.list({ connection: 'acme-be/key' }))
    for (const text of [refused.text, empty.text, ...f.logs, audit]) {
      expect(text).not.toContain(wrong)
      expect(text).not.toContain(key)
    }
  })

  it('refuses the form with a wrong or missing CSRF token, replacing nothing', async () => {
    const { visitor, key } = await dashboard()
    await f.keeper.connect('acme-be', { name: 'key', apiKey: key })
    const newKey = await newEmulatorKey()
    await visitor.request('/connections/acme-be/key')
    const forged = await visitor.request('/connections/acme-be/key/api-key', {
      method: 'POST',
      body: new URLSearchParams({ apiKey: newKey, _csrf: 'forged-token' }),
    })
    expect(forged.status).toBe(403)
    const missing = await visitor.post('/connections/acme-be/key/api-key', { apiKey: newKey }, false)
    expect(missing.status).toBe(403)
    expect(await handedOut('acme-be/key')).toEqual({ name: 'x-api-key', value: key })
    for (const text of [forged.text, missing.text, ...f.logs]) expect(text).not.toContain(newKey)
  })
})
