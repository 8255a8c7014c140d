// Connect links over HTTP (the browser path is in connect-link-browser.test.ts): creating a
// session behind the API key, the return-URL allow-list, name conflicts, the single-use page flow
// for an out-of-band platform and a client-credentials one, double submits, used, expired and
// forged links, CSRF, that the link's token is neither stored nor logged in clear, and the sweep
// that deletes links a day past expiry.
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'
import { json, type ServerFixture, startServer, Visitor } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

const RETURN = 'https://app.example/innkeeper/done'

async function withApp(platform: 'bookingsync' | 'bookingtime' = 'bookingsync') {
  f = await startServer(platform)
  await f.keeper.apps.add(
    'acme',
    appFor(f.emulator, platform, {
      ...(platform === 'bookingsync' ? { scopes: ['public', 'rentals_read'] } : {}),
      returnUrls: ['https://app.example/innkeeper/'],
    }),
  )
}

function createSession(body: Record<string, unknown>, key?: string | null) {
  return f.api('/api/connect-sessions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    key,
  })
}

async function newLink(
  body: Record<string, unknown> = {},
): Promise<{ url: string; path: string; token: string }> {
  const answer = await createSession({ app: 'acme', returnUrl: RETURN, ...body })
  expect(answer.status).toBe(201)
  const { url } = await json(answer)
  const path = new URL(url).pathname
  return { url, path, token: path.split('/')[2] ?? '' }
}

async function apiKeyId(): Promise<string> {
  return /^ik_([0-9a-f]{10})_/.exec(f.apiKey)?.[1] ?? ''
}

describe('POST /api/connect-sessions', () => {
  it('needs an API key, answers 201 with a 30-minute link on this server, and stores only a hash of its token', async () => {
    await withApp()
    expect((await createSession({ app: 'acme' }, null)).status).toBe(401)
    const before = f.now()
    const answer = await createSession({ app: 'acme', name: 'guest-1', returnUrl: RETURN })
    const after = f.now()
    expect(answer.status).toBe(201)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    const body = await json(answer)
    expect(body.url).toMatch(new RegExp(`^${f.baseUrl}/connect/ikc_[A-Za-z0-9_-]{43}$`))
    expect(body.connectionId).toBe('acme/guest-1')
    const expiresAt = Date.parse(body.expiresAt)
    // 30 minutes from when the server answered, however long the request took.
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1_000)
    expect(expiresAt).toBeLessThanOrEqual(after + 30 * 60_000 + 1_000)
    const token = new URL(body.url).pathname.split('/')[2] ?? ''
    const stored = await f.keeper.store.listDocuments('connect_sessions')
    expect(stored.map((document) => document.id)).toEqual([createHash('sha256').update(token).digest('hex')])
    expect(JSON.stringify(stored)).not.toContain(token)
    expect(f.logs.join('')).not.toContain(token)
  })

  it('takes a lifetime within bounds and refuses one outside them', async () => {
    await withApp()
    const short = await json(await createSession({ app: 'acme', expiresIn: 120 }))
    expect(Date.parse(short.expiresAt) - f.now()).toBeLessThanOrEqual(120_000)
    for (const expiresIn of [10, 8 * 24 * 3600, 'soon']) {
      const refused = await createSession({ app: 'acme', expiresIn })
      expect(refused.status).toBe(400)
      expect((await json(refused)).error.message).toMatch(/expiresIn/)
    }
  })

  it('allows only return URLs under the app allow-list (same origin, path prefix by whole segments)', async () => {
    await withApp()
    for (const returnUrl of [
      'https://app.example/innkeeper/done?user=7',
      'https://app.example/innkeeper/',
      'https://app.example/innkeeper/a/../done',
    ]) {
      expect((await createSession({ app: 'acme', returnUrl })).status).toBe(201)
    }
    for (const returnUrl of [
      'https://evil.example/innkeeper/done',
      'https://app.example.evil.example/innkeeper/done',
      'http://app.example/innkeeper/done',
      'https://app.example:8443/innkeeper/done',
      'https://app.example/innkeeperX',
      'https://app.example/innkeeper/../admin',
      'https://user:pw@app.example/innkeeper/done',
      'javascript:alert(1)',
      '/innkeeper/done',
    ]) {
      const refused = await createSession({ app: 'acme', returnUrl })
      expect(refused.status, returnUrl).toBe(400)
      expect((await json(refused)).error.message).toMatch(/allow-list/)
    }
    expect(await f.keeper.store.listDocuments('connect_sessions')).toHaveLength(3)
  })

  it('refuses an unknown app, foreign options and a taken name unless the session says replace', async () => {
    await withApp()
    expect((await createSession({ app: 'nope' })).status).toBe(404)
    const foreign = await createSession({ app: 'acme', options: { organizationId: 'x' } })
    expect(foreign.status).toBe(400)
    expect((await json(foreign)).error.message).toMatch(/account_id|accountId|connect option/)
    const start = await f.keeper.connect('acme', { name: 'taken' })
    if (start.kind !== 'authorize') throw new Error('expected an authorization step')
    await start.complete({ code: (await answerConsent(start.url)).code })
    const taken = await createSession({ app: 'acme', name: 'taken' })
    expect(taken.status).toBe(409)
    expect((await json(taken)).error.code).toBe('conflict')
    expect((await createSession({ app: 'acme', name: 'taken', replace: true })).status).toBe(201)
    const generated = await json(await createSession({ app: 'acme' }))
    expect(generated.connectionId).toMatch(/^acme\/link-[0-9a-f]{10}$/)
  })
})

describe('the connect link page', () => {
  it('connects an out-of-band platform once, returns with connection=<id>, and records the API key', async () => {
    await withApp()
    const { path, token } = await newLink({ name: 'guest-7' })
    const visitor = new Visitor(f.baseUrl)
    const page = await visitor.request(path)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self'")
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.text).toContain('id="start-form"')
    expect(page.text).not.toContain('Log out')

    // Without the CSRF token nothing happens and the link stays usable.
    expect((await visitor.post(path, {}, false)).status).toBe(403)
    expect((await visitor.request(path)).status).toBe(200)

    const started = await visitor.post(path, {})
    expect(started.status).toBe(200)
    expect(started.text).toContain(`action="${path}/code"`)
    const consentUrl =
      /id="consent-link" href="([^"]+)"/.exec(started.text)?.[1]?.replaceAll('&amp;', '&') ?? ''
    const state = /name="state" value="([^"]+)"/.exec(started.text)?.[1] ?? ''
    const consent = await answerConsent(consentUrl)
    const done = await visitor.post(`${path}/code`, { code: consent.code ?? '', state })
    expect(done.status).toBe(303)
    const back = new URL(done.headers.get('location') ?? '')
    expect(`${back.origin}${back.pathname}`).toBe(RETURN)
    expect(back.searchParams.get('connection')).toBe('acme/guest-7')

    const token2 = await f.api(`/api/connections/${encodeURIComponent('acme/guest-7')}/token`, {
      method: 'POST',
    })
    expect(token2.status).toBe(200)
    const audit = await f.keeper.audit.list({ connection: 'acme/guest-7' })
    expect(audit.find((entry) => entry.action === 'connection.connected')?.actor).toBe(
      `api-key:${await apiKeyId()}`,
    )

    // Used: the page says so and nothing changes, whatever is posted.
    const again = await visitor.request(path)
    expect(again.status).toBe(410)
    expect(again.text).toContain('already used')
    expect((await visitor.post(path, {})).status).toBe(410)
    expect((await visitor.post(`${path}/code`, { code: consent.code ?? '', state })).status).toBe(410)
    expect((await f.keeper.connections()).map((connection) => connection.id)).toEqual(['acme/guest-7'])
    expect(f.logs.join('')).not.toContain(token)
    expect(f.logs.join('')).toContain('/connect/[redacted]')
  })

  it('never replaces a connection that took the name after the link was made', async () => {
    await withApp()
    const { path } = await newLink({ name: 'late' })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(path)
    const started = await visitor.post(path, {})
    const consentUrl =
      /id="consent-link" href="([^"]+)"/.exec(started.text)?.[1]?.replaceAll('&amp;', '&') ?? ''
    const state = /name="state" value="([^"]+)"/.exec(started.text)?.[1] ?? ''
    // Meanwhile the owner connects that very name.
    const owner = await f.keeper.connect('acme', { name: 'late' })
    if (owner.kind !== 'authorize') throw new Error('expected an authorization step')
    const mine = await owner.complete({ code: (await answerConsent(owner.url)).code })
    const consent = await answerConsent(consentUrl)
    const refused = await visitor.post(`${path}/code`, { code: consent.code ?? '', state })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('may not replace it')
    const after = await f.keeper.connection('acme/late').info()
    expect(after.createdAt).toBe(mine.createdAt)
    expect(after.updatedAt).toBe(mine.updatedAt)
  })

  it('a double submit starts one authorization: the second gets the used page', async () => {
    await withApp()
    const { path } = await newLink()
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(path)
    const answers = await Promise.all([
      visitor.post(path, {}),
      visitor.post(path, {}),
      visitor.post(path, {}),
    ])
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 410, 410])
    expect(await f.keeper.store.listDocuments('connect_session_states')).toHaveLength(1)
  })

  it('an expired link gets a clear page and starts nothing', async () => {
    await withApp()
    const { path } = await newLink({ expiresIn: 60 })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(path)
    f.advance(61)
    const page = await visitor.request(path)
    expect(page.status).toBe(410)
    expect(page.text).toContain('expired')
    expect(page.text).toContain('Nothing was changed')
    expect((await visitor.post(path, {})).status).toBe(410)
    expect(await f.keeper.store.listDocuments('connect_session_states')).toEqual([])
    expect(await f.keeper.store.latestPendingAuthorization('acme', f.now() - 120_000)).toBeNull()
  })

  it('a link and its authorization are deleted a day after expiry by the hourly sweep, with no new link made', async () => {
    await withApp()
    const used = await newLink({ expiresIn: 60 })
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(used.path)
    expect((await visitor.post(used.path, {})).status).toBe(200)
    const recent = await newLink({ expiresIn: 24 * 3600 })
    const open = await newLink({ expiresIn: 7 * 24 * 3600 })
    expect(await f.keeper.store.listDocuments('connect_session_states')).toHaveLength(1)

    // Workers start the sweep (so does `innkeeper serve`); each round is what its hourly timer runs.
    const refresher = f.keeper.startRefresher()
    expect(f.keeper.connectSessionSweep.started).toBe(true)
    expect(await f.keeper.connectSessionSweep.sweep()).toBe(0) // the round at start: nothing is a day past expiry
    f.advance(24 * 3600 + 11 * 60) // the used link and its 10-minute authorization: over a day past expiry
    expect(await f.keeper.connectSessionSweep.sweep()).toBe(2)
    await refresher.stop()

    expect(await f.keeper.store.listDocuments('connect_session_states')).toEqual([])
    expect(
      (await f.keeper.store.listDocuments('connect_sessions')).map((document) => document.id).sort(),
    ).toEqual(
      [recent.token, open.token].map((token) => createHash('sha256').update(token).digest('hex')).sort(),
    )
    expect((await visitor.request(used.path)).status).toBe(404)
    const expired = await visitor.request(recent.path)
    expect(expired.status).toBe(410)
    expect(expired.text).toContain('expired')
    expect((await visitor.request(open.path)).status).toBe(200)
    await f.keeper.close()
    expect(f.keeper.connectSessionSweep.started).toBe(false)
  })

  it('a forged or mangled link gets a clear page', async () => {
    await withApp()
    const { path, token } = await newLink()
    const forged = `ikc_${'A'.repeat(43)}`
    const visitor = new Visitor(f.baseUrl)
    await visitor.request(path) // a CSRF token, so the forged post reaches the link check
    for (const path of [`/connect/${forged}`, `/connect/${token.slice(0, -1)}`, '/connect/nothing']) {
      const page = await visitor.request(path)
      expect(page.status, path).toBe(404)
      expect(page.text).toContain('not valid')
    }
    expect((await visitor.post(`/connect/${forged}`, {})).status).toBe(404)
    expect((await f.keeper.store.listDocuments('connect_sessions'))[0]?.value.usedAt).toBeUndefined()
  })

  it('asks for the client-credentials options the session left open, connects at once, and a refused try leaves the link usable', async () => {
    await withApp('bookingtime')
    const { path } = await newLink({ name: 'org-1' })
    const visitor = new Visitor(f.baseUrl)
    const page = await visitor.request(path)
    expect(page.text).toContain('name="option.organizationId"')
    // A refused organization changes nothing, so the link still works for a second try.
    const wrong = await visitor.post(path, { 'option.organizationId': 'not-our-organization' })
    expect(wrong.status).toBeGreaterThanOrEqual(400)
    expect(wrong.text).toContain('data-link-usable="yes"')
    expect(wrong.text).toContain('id="try-again"')
    expect(await f.keeper.connections()).toEqual([])
    expect((await visitor.request(path)).status).toBe(200)
    const done = await visitor.post(path, { 'option.organizationId': f.emulator.info.organizationId ?? '' })
    expect(done.status).toBe(303)
    expect(new URL(done.headers.get('location') ?? '').searchParams.get('connection')).toBe('acme/org-1')
    expect((await f.keeper.connection('acme/org-1').info()).metadata.organizationId).toBe(
      f.emulator.info.organizationId,
    )

    // Fixed by the session: the page does not ask for it.
    const fixed = await newLink({
      name: 'org-2',
      options: { organizationId: f.emulator.info.organizationId },
    })
    const second = await visitor.request(fixed.path)
    expect(second.text).not.toContain('name="option.organizationId"')
  })
})
