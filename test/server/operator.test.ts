// The operator side over plain HTTP: login (password or API key, rate limited), the session
// cookie's flags, CSRF on every form, security headers, client-credentials forms generated from
// the provider's connect options (bookingtime's organization), and pages for errors.
import { afterEach, describe, expect, it } from 'vitest'
import { revokeApiKey } from '../../src/server/api-keys.js'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'
import { connectBookingSync, type ServerFixture, startServer, Visitor } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

describe('operator login', () => {
  it('sends visitors to the login page and lets the admin password in with a safe session cookie', async () => {
    f = await startServer('bookingsync', { adminPassword: 's3cret-password' })
    const visitor = new Visitor(f.baseUrl)
    const first = await visitor.request('/')
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('/login?next=%2F')
    await visitor.request('/login')
    const wrong = await visitor.post('/login', { password: 'wrong' })
    expect(wrong.status).toBe(401)
    const right = await visitor.post('/login', { password: 's3cret-password', next: '//evil.example/' })
    expect(right.status).toBe(303)
    expect(right.headers.get('location')).toBe('/')
    const cookie = right.headers.getSetCookie().find((line) => line.startsWith('innkeeper_session='))
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).not.toMatch(/Secure/i)
    expect((await visitor.request('/')).status).toBe(200)
    // The same claim without the server's signature is worth nothing.
    const forged = Buffer.from(JSON.stringify({ subject: 'password', expiresAt: Date.now() + 1e9 })).toString(
      'base64url',
    )
    visitor.cookies.set('innkeeper_session', `${forged}.bm90LWEtc2lnbmF0dXJl`)
    expect((await visitor.request('/')).status).toBe(303)
  })

  it('marks the session cookie Secure when the public URL is not loopback', async () => {
    f = await startServer('bookingsync', { adminPassword: 'pw', publicUrl: 'https://keys.example.com' })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request('/login')
    const answer = await visitor.post('/login', { password: 'pw' })
    expect(answer.headers.getSetCookie().find((line) => line.startsWith('innkeeper_session='))).toMatch(
      /Secure/,
    )
  })

  it('accepts an API key as the login until the key is revoked', async () => {
    f = await startServer('bookingsync')
    const visitor = new Visitor(f.baseUrl)
    expect((await visitor.login(f.apiKey)).status).toBe(303)
    expect((await visitor.request('/')).status).toBe(200)
    await revokeApiKey(f.keeper.store, f.apiKey.slice(3, 13))
    expect((await visitor.request('/')).status).toBe(303)
  })

  it('rate limits login attempts', async () => {
    f = await startServer('bookingsync', { adminPassword: 'pw', rateLimit: { loginPerMinute: 3 } })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request('/login')
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await visitor.post('/login', { password: 'guess' })).status)
    expect(statuses.at(-1)).toBe(429)
  })

  it('refuses forms without the CSRF token', async () => {
    f = await startServer('bookingsync', { adminPassword: 'pw' })
    const visitor = new Visitor(f.baseUrl)
    expect((await visitor.post('/login', { password: 'pw' }, false)).status).toBe(403)
    await visitor.login('pw')
    const answer = await visitor.post('/connections/acme/main/disconnect', {}, false)
    expect(answer.status).toBe(403)
  })
})

describe('pages', () => {
  it('sets security headers, and a script policy with no inline script', async () => {
    f = await startServer('bookingsync', { adminPassword: 'pw' })
    const answer = await fetch(`${f.baseUrl}/login`)
    const csp = answer.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self';")
    expect(csp).toContain("frame-ancestors 'self'")
    expect(csp).toContain("form-action 'self'")
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('allows the connect page’s one inline script by a nonce of that page', async () => {
    f = await startServer('bookingexperts', { dashboardAuth: 'none' })
    await f.keeper.apps.add(
      'acme-be',
      appFor(f.emulator, 'bookingexperts', { redirectUri: `${f.baseUrl}/callback` }),
    )
    const visitor = new Visitor(f.baseUrl)
    await visitor.request('/')
    const page = await visitor.post('/apps/acme-be/connect', { name: 'main' })
    expect(page.text).toContain('id="connect-redirect"')
    const nonce = /<script nonce="([0-9a-f]{32})">/.exec(page.text)?.[1]
    expect(page.headers.get('content-security-policy')).toContain(`script-src 'self' 'nonce-${nonce}';`)
  })

  it('renders bookingtime’s organization field from its connect options and connects with it', async () => {
    f = await startServer('bookingtime', { dashboardAuth: 'none' })
    await f.keeper.apps.add('bt', appFor(f.emulator, 'bookingtime'))
    const visitor = new Visitor(f.baseUrl)
    const dashboard = await visitor.request('/')
    expect(dashboard.text).toMatch(/name="option\.organizationId"[^>]*required/)

    const missing = await visitor.post('/apps/bt/connect', { name: 'main' })
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('organizationId')

    await visitor.request('/')
    const organizationId = f.emulator.info.organizationId!
    const answer = await visitor.post('/apps/bt/connect', {
      name: 'main',
      'option.organizationId': organizationId,
    })
    expect(answer.status).toBe(303)
    expect(answer.headers.get('location')).toBe('/?notice=connected&id=bt%2Fmain')
    const info = await f.keeper.connection('bt/main').info()
    expect(info).toMatchObject({ state: 'active', metadata: { organizationId } })
  })

  it('offers bookingtime’s User Authentication beside client credentials: a grant selector, the organization asked first, then the consent page and the callback', async () => {
    f = await startServer('bookingtime', { dashboardAuth: 'none' })
    await f.keeper.apps.add('bt', appFor(f.emulator, 'bookingtime'))
    const visitor = new Visitor(f.baseUrl)
    const dashboard = await visitor.request('/')
    expect(dashboard.text).toMatch(/<select name="grant">/)
    expect(dashboard.text).toMatch(/<option value="client_credentials" selected>/)
    expect(dashboard.text).toMatch(/<option value="authorization_code" *>/)

    const missing = await visitor.post('/apps/bt/connect', { name: 'user', grant: 'authorization_code' })
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('organizationId')
    expect(await f.keeper.store.latestPendingAuthorization('bt', Date.now())).toBeNull()

    await visitor.request('/')
    const organizationId = f.emulator.info.organizationId!
    const page = await visitor.post('/apps/bt/connect', {
      name: 'user',
      grant: 'authorization_code',
      'option.organizationId': organizationId,
    })
    expect(page.status).toBe(200)
    const url = /id="consent-link" href="([^"]+)"/.exec(page.text)![1]!.replaceAll('&amp;', '&')
    expect(url.startsWith(f.emulator.info.authorizeUrl!)).toBe(true)
    const consent = await answerConsent(url)
    expect(consent.location?.startsWith(`${f.baseUrl}/callback?`)).toBe(true)
    expect((await fetch(consent.location!)).status).toBe(200)
    const info = await f.keeper.connection('bt/user').info()
    expect(info).toMatchObject({ state: 'active', metadata: { organizationId, grant: 'authorization_code' } })
    expect(f.emulator.stats().tokenRequests.client_credentials).toBeUndefined()
  })

  it('records what an operator did under their session in the audit trail', async () => {
    f = await startServer('bookingtime', { adminPassword: 'correct horse battery staple' })
    await f.keeper.apps.add('bt', appFor(f.emulator, 'bookingtime'))
    const visitor = new Visitor(f.baseUrl)
    await visitor.login('correct horse battery staple')
    await visitor.request('/')
    await visitor.post('/apps/bt/connect', {
      name: 'main',
      'option.organizationId': f.emulator.info.organizationId!,
    })
    await visitor.request('/')
    await visitor.post('/connections/bt/main/disconnect', {})
    await f.keeper.audit.flush()
    const entries = await f.keeper.store.listAudit({ connection: 'bt/main' })
    const byAction = Object.fromEntries(entries.map((entry) => [entry.action, entry.actor]))
    expect(byAction['connection.connected']).toBe('operator:password')
    expect(byAction['connection.disconnected']).toBe('operator:password')
  })

  it('escapes everything it shows', async () => {
    f = await startServer('bookingsync', { dashboardAuth: 'none' })
    const page = await (
      await fetch(`${f.baseUrl}/?notice=connected&id=${encodeURIComponent('<script>x</script>')}`)
    ).text()
    expect(page).not.toContain('<script>x</script>')
    expect(page).toContain('&lt;script&gt;x&lt;/script&gt;')
  })

  it('answers unknown pages with an HTML 404 and unknown API routes with JSON', async () => {
    f = await startServer('bookingsync', { dashboardAuth: 'none' })
    const page = await fetch(`${f.baseUrl}/nothing-here`)
    expect(page.status).toBe(404)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const api = await f.api('/api/nothing-here')
    expect(api.status).toBe(404)
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not_found')
  })

  it('offers Reconnect for a connection that needs a person again, through the out-of-band page', async () => {
    f = await startServer('bookingsync', { dashboardAuth: 'none' })
    await connectBookingSync(f)
    f.emulator.revokeAll()
    await f.api('/api/connections/acme-bs%2Fmain/refresh', { method: 'POST' })
    const visitor = new Visitor(f.baseUrl)
    const dashboard = await visitor.request('/')
    expect(dashboard.text).toContain('state-needs_reauth')
    expect(dashboard.text).toContain('Reconnect</button>')
    const page = await visitor.post('/apps/acme-bs/connect', { name: 'main' })
    expect(page.status).toBe(200)
    expect(page.text).toContain('id="consent-link"')
    expect(page.text).toContain('target="_blank"')
    expect(page.text).toContain('id="code-form"')
  })
})
