// Connect links for platforms that take API keys (Booking Experts' X-API-KEY), over HTTP against
// the emulator: the link's page offers the key form beside Continue, a valid key connects at once
// (the token API hands out the header, the proxy reaches the platform) and returns with
// connection=<id>, a refused key shows the page's error and leaves the link usable, the key is in
// no page, log line or audit entry, and used, expired or CSRF-less posts change nothing.
import { afterEach, describe, expect, it } from 'vitest'
import { appFor } from '../support/keeper.js'
import { json, type ServerFixture, startServer, Visitor } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

const RETURN = 'https://app.example/innkeeper/done'
const WRONG = 'wrong-key-5e6f7a8b9c0d1e2f3a4b'

/** A server with a Booking Experts app `acme` (redirecting, returns under app.example) and its emulator's key. */
async function withBookingExperts(): Promise<string> {
  f = await startServer('bookingexperts')
  await f.keeper.apps.add(
    'acme',
    appFor(f.emulator, 'bookingexperts', {
      redirectUri: `${f.baseUrl}/callback`,
      returnUrls: ['https://app.example/innkeeper/'],
    }),
  )
  return f.emulator.info.apiKey ?? ''
}

async function newLink(body: Record<string, unknown> = {}): Promise<string> {
  const answer = await f.api('/api/connect-sessions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app: 'acme', returnUrl: RETURN, ...body }),
  })
  expect(answer.status).toBe(201)
  return new URL((await json(answer)).url).pathname
}

async function auditText(): Promise<string> {
  return JSON.stringify(await f.keeper.audit.list({}))
}

describe('a connect link for a platform that takes API keys', () => {
  it('connects with a pasted key once, returns with connection=<id>, and the connection works', async () => {
    const key = await withBookingExperts()
    const path = await newLink({ name: 'guest-be' })
    const visitor = new Visitor(f.baseUrl)
    const pages: string[] = []
    const page = await visitor.request(path)
    pages.push(page.text)
    expect(page.status).toBe(200)
    // Continue (the OAuth redirect) stays; the key form posts to the link's own page.
    expect(page.text).toContain('id="start"')
    expect(page.text).toContain(`action="${path}/api-key"`)
    expect(page.text).toMatch(/<input type="password" name="apiKey" id="api-key"[^>]*required>/)
    expect(page.text).not.toMatch(/name="apiKey"[^>]*value=/)
    expect(page.text).toContain('<code>X-API-KEY</code>')
    // The form's final redirect to the return URL is allowed by the page's CSP.
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self' https://app.example")

    const done = await visitor.post(`${path}/api-key`, { apiKey: key })
    pages.push(done.text)
    expect(done.status).toBe(303)
    const back = new URL(done.headers.get('location') ?? '')
    expect(`${back.origin}${back.pathname}`).toBe(RETURN)
    expect(back.searchParams.get('connection')).toBe('acme/guest-be')

    const token = await f.api(`/api/connections/${encodeURIComponent('acme/guest-be')}/token`, {
      method: 'POST',
    })
    expect(token.status).toBe(200)
    expect(await json(token)).toMatchObject({ kind: 'api_key', header: { name: 'x-api-key', value: key } })
    const proxied = await f.api('/proxy/acme/guest-be/v3/administrations')
    expect(proxied.status).toBe(200)
    expect((await json(proxied)).data.map((administration: { id: string }) => administration.id)).toEqual([
      '1001',
      '1002',
    ])
    const keyId = /^ik_([0-9a-f]{10})_/.exec(f.apiKey)?.[1]
    const audit = await f.keeper.audit.list({ connection: 'acme/guest-be' })
    expect(audit.find((entry) => entry.action === 'connection.connected')?.actor).toBe(`api-key:${keyId}`)

    // Used: the page and both forms refuse, and the connection stays as it is.
    const again = await visitor.request(path)
    pages.push(again.text)
    expect(again.status).toBe(410)
    const reused = await visitor.post(`${path}/api-key`, { apiKey: WRONG })
    pages.push(reused.text)
    expect(reused.status).toBe(410)
    expect(reused.text).toContain('already used')
    expect((await visitor.post(path, {})).status).toBe(410)
    expect((await f.keeper.connections()).map((connection) => connection.id)).toEqual(['acme/guest-be'])
    expect((await f.api('/proxy/acme/guest-be/v3/administrations')).status).toBe(200)

    for (const text of [...pages, ...f.logs, await auditText()]) expect(text).not.toContain(key)
    expect(f.logs.some((line) => line.includes('/connect/[redacted]/api-key'))).toBe(true)
  })

  it('shows a refused key as the page’s error, keeps nothing, and the link still works', async () => {
    const key = await withBookingExperts()
    const path = await newLink({ name: 'guest-be' })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(path)
    const refused = await visitor.post(`${path}/api-key`, { apiKey: WRONG })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('<code id="error-code">invalid_token</code>')
    expect(refused.text).toContain(
      'Booking Experts did not accept this API key. Check that you copied the whole key',
    )
    expect(refused.text).toContain('data-link-usable="yes"')
    expect(refused.text).toContain(`id="try-again" href="${path}"`)
    expect(await f.keeper.connections()).toEqual([])

    const empty = await visitor.post(`${path}/api-key`, { apiKey: '  ' })
    expect(empty.status).toBe(400)
    expect(empty.text).toContain('The API key is empty')
    expect(empty.text).toContain('data-link-usable="yes"')
    expect(await f.keeper.connections()).toEqual([])

    // The second try, with the right key, goes through on the same link.
    expect((await visitor.request(path)).status).toBe(200)
    const done = await visitor.post(`${path}/api-key`, { apiKey: key })
    expect(done.status).toBe(303)
    expect(new URL(done.headers.get('location') ?? '').searchParams.get('connection')).toBe('acme/guest-be')

    for (const text of [refused.text, empty.text, ...f.logs, await auditText()]) {
      expect(text).not.toContain(WRONG)
      expect(text).not.toContain(key)
    }
  })

  it('refuses the key form on an expired link, without CSRF, and on a double submit past the first', async () => {
    const key = await withBookingExperts()
    const expired = await newLink({ name: 'late', expiresIn: 60 })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(expired)
    f.advance(61)
    const refused = await visitor.post(`${expired}/api-key`, { apiKey: key })
    expect(refused.status).toBe(410)
    expect(refused.text).toContain('expired')

    const path = await newLink({ name: 'twice' })
    await visitor.request(path)
    expect((await visitor.post(`${path}/api-key`, { apiKey: key }, false)).status).toBe(403)
    expect(await f.keeper.connections()).toEqual([])
    const answers = await Promise.all([1, 2, 3].map(() => visitor.post(`${path}/api-key`, { apiKey: key })))
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 410, 410])
    expect((await f.keeper.connections()).map((connection) => connection.id)).toEqual(['acme/twice'])
  })

  it('never replaces a connection that took the name after the link was made, unless the link says replace', async () => {
    const key = await withBookingExperts()
    const path = await newLink({ name: 'shared' })
    const mine = await f.keeper.connect('acme', { name: 'shared', apiKey: key })
    if (mine.kind !== 'connected') throw new Error('expected a connection')
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(path)
    const taken = await visitor.post(`${path}/api-key`, { apiKey: key })
    expect(taken.status).toBe(400)
    expect(taken.text).toContain('<code id="error-code">conflict</code>')
    expect(taken.text).toContain('this link may not replace it')
    expect(taken.text).toContain('data-link-usable="no"')
    expect((await f.keeper.connection('acme/shared').info()).updatedAt).toBe(mine.connection.updatedAt)

    const replacing = await newLink({ name: 'shared', replace: true })
    await visitor.request(replacing)
    f.advance(5)
    expect((await visitor.post(`${replacing}/api-key`, { apiKey: key })).status).toBe(303)
    expect((await f.keeper.connection('acme/shared').info()).updatedAt).toBeGreaterThan(
      mine.connection.updatedAt,
    )
  })

  it('offers no key form where the provider takes no keys, and refuses a post there with the link intact', async () => {
    await withBookingExperts()
    await f.keeper.apps.add('acme-bs', appFor(f.emulator, 'bookingsync'))
    const path = await newLink({ app: 'acme-bs', returnUrl: undefined })
    const visitor = new Visitor(f.baseUrl)
    const page = await visitor.request(path)
    expect(page.text).toContain('id="start"')
    expect(page.text).not.toContain('api-key')
    const refused = await visitor.post(`${path}/api-key`, { apiKey: 'anything-at-all' })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('takes no API keys')
    expect((await visitor.request(path)).status).toBe(200)
  })
})
