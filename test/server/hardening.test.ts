// Hostile requests against the service (issue 13): where the login sends a browser afterwards,
// which Host names it answers, whether the proxy stays under the API base, whether a copied
// session cookie outlives logout, and whether unknown connection ids fill memory.
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createApiKey, revokeApiKey } from '../../src/server/api-keys.js'
import { createServer } from '../../src/server/server.js'
import { connectBookingSync, type ServerFixture, startServer, Visitor } from './support.js'

let f: ServerFixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

describe('the redirect after login', () => {
  it('goes only to a path on this server, however the way off-site is encoded', async () => {
    // The loopback demo redirects at once, without a login form.
    f = await startServer('bookingsync', { dashboardAuth: 'none', rateLimit: { loginPerMinute: 1000 } })
    const locationFor = async (next: string) => {
      const answer = await fetch(`${f!.baseUrl}/login?next=${next}`, { redirect: 'manual' })
      expect(answer.status).toBe(303)
      return answer.headers.get('location')
    }
    for (const hostile of [
      '/%09/evil.example/x', // tab: browsers drop it and read //evil.example
      '/%0a/evil.example/x',
      '/%0d%0a/evil.example/x',
      '%2F%2Fevil.example/x',
      '/%2Fevil.example/x',
      '/%252F/evil.example/x', // encoded twice
      '/%5Cevil.example/x', // backslash reads as a slash
      '/%5C%5Cevil.example',
      '%5C%5Cevil.example',
      '//evil.example/x',
      'https://evil.example/x',
      '/%00/evil.example',
      '/%E2%80%AE%25', // undecodable after one round
      'evil.example',
    ]) {
      expect(await locationFor(hostile), hostile).toBe('/')
    }
    expect(await locationFor(encodeURIComponent('/audit?connection=acme%2Fmain'))).toBe(
      '/audit?connection=acme%2Fmain',
    )
    expect(await locationFor('/')).toBe('/')
  })
})

/** A request with a Host header of our choosing (what a rebound name sends). */
function requestWithHost(
  baseUrl: string,
  path: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    // The path goes out exactly as written (like curl --path-as-is).
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, path, headers: { ...headers, host } },
      (answer) => {
        let body = ''
        answer.setEncoding('utf8')
        answer.on('data', (chunk: string) => {
          body += chunk
        })
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body }))
      },
    )
    outgoing.on('error', reject)
    outgoing.end()
  })
}

describe('the Host names the server answers (DNS rebinding)', () => {
  it('refuses a rebound name in the loopback demo: no dashboard, no CSRF token, no API, no health', async () => {
    f = await startServer('bookingsync', { dashboardAuth: 'none' })
    await connectBookingSync(f)
    const port = new URL(f.baseUrl).port
    const rebound = `rebind.attacker.example:${port}`
    const dashboard = await requestWithHost(f.baseUrl, '/', rebound)
    expect(dashboard.status).toBe(421)
    expect(dashboard.body).toMatch(/does not answer for the host name/)
    expect(dashboard.body).not.toMatch(/_csrf|acme-bs/)
    const api = await requestWithHost(f.baseUrl, '/api/connections', rebound, {
      authorization: `Bearer ${f.apiKey}`,
    })
    expect(api.status).toBe(421)
    expect(api.body).not.toMatch(/acme-bs/)
    expect((await requestWithHost(f.baseUrl, '/healthz', rebound)).status).toBe(421)
    expect((await requestWithHost(f.baseUrl, '/login?next=/', rebound)).status).toBe(421)

    // This machine's own names still work.
    for (const own of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST.:${port}`, 'localhost']) {
      const answer = await requestWithHost(f.baseUrl, '/', own)
      expect(answer.status, own).toBe(200)
      expect(answer.body).toMatch(/acme-bs/)
    }
  })

  it('answers the public URL’s host and the allowed hosts, nothing else', async () => {
    f = await startServer('bookingsync', {
      publicUrl: 'https://keys.example.com',
      allowedHosts: ['innkeeper.internal:4180', 'Other.Example'],
    })
    await connectBookingSync(f)
    const auth = { authorization: `Bearer ${f.apiKey}` }
    for (const host of [
      'keys.example.com',
      'innkeeper.internal:4180',
      'innkeeper.internal',
      'other.example',
    ]) {
      expect((await requestWithHost(f.baseUrl, '/api/connections', host, auth)).status, host).toBe(200)
    }
    for (const host of ['keys.example.com.attacker.example', 'example.com', 'evil.example', '10.1.2.3']) {
      expect((await requestWithHost(f.baseUrl, '/api/connections', host, auth)).status, host).toBe(421)
    }
  })
})

describe('the proxy and conn.fetch stay under the API base', () => {
  it('refuses paths that climb out of the API base, however they are written', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const host = new URL(f.baseUrl).host
    const auth = { authorization: `Bearer ${f.apiKey}` }
    // Sent as written (curl --path-as-is): fetch would resolve the dots itself.
    for (const path of [
      '/proxy/acme-bs/main/../../__admin/info',
      '/proxy/acme-bs/main/%2e%2e/%2e%2e/__admin/info',
      '/proxy/acme-bs/main/%2E%2E/%2e./__admin/info',
      '/proxy/acme-bs/main/..%2f..%2f__admin/info',
      '/proxy/acme-bs/main/rentals/..%2F..%2F..%2F__admin/info',
      '/proxy/acme-bs/main/..%5c..%5c__admin/info',
      '/proxy/acme-bs/main/..\\..\\__admin/info',
    ]) {
      const answer = await requestWithHost(f.baseUrl, path, host, auth)
      expect(answer.status, `${path} ${answer.body}`).toBe(400)
      expect(JSON.parse(answer.body).error.code, path).toBe('forbidden_path')
      expect(answer.body).not.toMatch(/"platform"|clientId/)
    }
    // Dots that stay inside the base are fine.
    const inside = await requestWithHost(f.baseUrl, '/proxy/acme-bs/main/rentals/../rentals', host, auth)
    expect(inside.status).toBe(200)

    const connection = f.keeper.connection('acme-bs/main')
    for (const path of [
      '../../__admin/info',
      '/../__admin/info',
      '%2e%2e/%2e%2e/__admin/info',
      'a/..%2F..%2F__admin',
    ]) {
      await expect(connection.fetch(path), path).rejects.toMatchObject({ code: 'forbidden_path' })
    }
    // A placeholder value cannot climb out either.
    await expect(
      connection.fetch('/{a}/{b}/__admin/info', { params: { a: '..', b: '..' } }),
    ).rejects.toMatchObject({
      code: 'forbidden_path',
    })
    expect((await connection.fetch('rentals')).status).toBe(200)
  })
})

describe('sessions end for every copy of the cookie', () => {
  it('logout ends a copied session cookie too', async () => {
    f = await startServer('bookingsync', { adminPassword: 'pw-one' })
    const visitor = new Visitor(f.baseUrl)
    expect((await visitor.login('pw-one')).status).toBe(303)
    const copy = new Visitor(f.baseUrl)
    copy.cookies = new Map(visitor.cookies)
    expect((await copy.request('/')).status).toBe(200)
    await visitor.request('/')
    expect((await visitor.post('/logout', {})).status).toBe(303)
    expect((await visitor.request('/')).status).toBe(303)
    const replayed = await copy.request('/')
    expect(replayed.status).toBe(303)
    expect(replayed.headers.get('location')).toBe('/login?next=%2F')
  })

  it('a password change ends the sessions the old password opened; another password does not open them', async () => {
    f = await startServer('bookingsync', { adminPassword: 'old-password', sessionSecret: 'shared-secret' })
    const visitor = new Visitor(f.baseUrl)
    await visitor.login('old-password')
    expect((await visitor.request('/')).status).toBe(200)
    // The same store and session secret, restarted with a new password.
    const restarted = await createServer({
      keeper: f.keeper,
      adminPassword: 'new-password',
      sessionSecret: 'shared-secret',
      logger: false,
    })
    await restarted.listen({ host: '127.0.0.1', port: 0 })
    try {
      const address = restarted.server.address() as AddressInfo
      const copy = new Visitor(`http://127.0.0.1:${address.port}`)
      copy.cookies = new Map(visitor.cookies)
      expect((await copy.request('/')).status).toBe(303)
      // Still valid where the password did not change: the binding, not the secret, refused it.
      expect((await visitor.request('/')).status).toBe(200)
    } finally {
      await restarted.close()
    }
  })

  it('revoking the API key a session was opened with ends it (key rotation)', async () => {
    f = await startServer('bookingsync')
    const visitor = new Visitor(f.baseUrl)
    await visitor.login(f.apiKey)
    const copy = new Visitor(f.baseUrl)
    copy.cookies = new Map(visitor.cookies)
    expect((await copy.request('/')).status).toBe(200)
    const { key: replacement } = await createApiKey(f.keeper.store, 'replacement')
    await revokeApiKey(f.keeper.store, f.apiKey.slice(3, 13))
    expect((await copy.request('/')).status).toBe(303)
    expect((await visitor.login(replacement)).status).toBe(303)
    expect((await visitor.request('/')).status).toBe(200)
  })
})

describe('connection handles', () => {
  it('unknown connection ids leave the handle cache as it was; known ones are kept once, and dropped on disconnect', async () => {
    f = await startServer('bookingsync', { rateLimit: { apiPerMinute: 100_000 } })
    await connectBookingSync(f)
    const token = () => f!.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    expect((await token()).status).toBe(200)
    expect((await token()).status).toBe(200)
    expect((await f.api('/api/connections/acme-bs/main')).status).toBe(200)
    const known = f.keeper.cachedConnectionHandles
    expect(known).toBe(1)

    for (let i = 0; i < 300; i++) {
      const answer = await f.api(`/api/connections/ghost-${i}%2Fmain${i % 2 ? '/token' : ''}`, {
        method: i % 2 ? 'POST' : 'GET',
      })
      expect(answer.status).toBe(404)
    }
    for (let i = 0; i < 100_000; i++) f.keeper.connection(`ghost-lib-${i}/main`)
    expect(f.keeper.cachedConnectionHandles).toBe(known)
    // The same connection under another spelling is the same handle.
    expect(f.keeper.connection('acme-bs')).toBe(f.keeper.connection('acme-bs/main'))
    expect(f.keeper.cachedConnectionHandles).toBe(known)

    await f.keeper.disconnect('acme-bs/main')
    expect(f.keeper.cachedConnectionHandles).toBe(0)
  })
})
