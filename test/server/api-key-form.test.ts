// The dashboard's API-key form (POST /apps/:app/api-key) over plain HTTP: it appears only on
// apps whose provider takes API keys (Booking Experts' X-API-KEY), makes a connection the token
// API and the proxy use against the emulator, keeps the key out of every page and log line,
// shows refused keys, bad names and taken names as the dashboard's other errors, and wants CSRF.
import { afterEach, describe, expect, it } from 'vitest'
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
