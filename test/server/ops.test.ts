// Running the server: `/healthz`, `/readyz` (store ping), Prometheus `/metrics` fed by real
// refreshes and failures, the OpenAPI document, and request logs with credentials redacted.
import { afterEach, describe, expect, it } from 'vitest'
import { redactUrl } from '../../src/server/logging.js'
import { connectBookingSync, json, type ServerFixture, startServer } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

describe('health', () => {
  it('says the process is up and the store answers', async () => {
    f = await startServer('bookingsync')
    expect(await json(await fetch(`${f.baseUrl}/healthz`))).toEqual({ status: 'ok' })
    const ready = await fetch(`${f.baseUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(await json(ready)).toEqual({ status: 'ready', store: 'sqlite' })
  })

  it('is not ready when the store stops answering', async () => {
    f = await startServer('bookingsync')
    await f.keeper.store.close()
    const ready = await fetch(`${f.baseUrl}/readyz`)
    expect(ready.status).toBe(503)
    expect((await json(ready)).error.code).toBe('store_unavailable')
  })
})

describe('metrics', () => {
  it('counts refreshes, failures by code, tokens served and connections by state', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    f.advance(7200 + 1)
    await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    let text = await (await fetch(`${f.baseUrl}/metrics`)).text()
    expect(text).toContain('innkeeper_refreshes_total 1\n')
    expect(text).toContain('innkeeper_tokens_served_total 2\n')
    expect(text).toContain('innkeeper_connections{state="active"} 1\n')
    expect(text).toContain('# TYPE innkeeper_connections gauge')

    f.emulator.revokeAll()
    await f.api('/api/connections/acme-bs%2Fmain/refresh', { method: 'POST' })
    text = await (await fetch(`${f.baseUrl}/metrics`)).text()
    expect(text).toMatch(/innkeeper_refresh_failures_total\{code="[a-z_]+"\} 1\n/)
    expect(text).toContain('innkeeper_connections{state="needs_reauth"} 1\n')
    expect(text).toContain('innkeeper_connections{state="active"} 0\n')
  })
})

describe('the OpenAPI document', () => {
  it('describes every API route in OpenAPI 3.1', async () => {
    f = await startServer('bookingsync')
    const document = await json(await fetch(`${f.baseUrl}/openapi.json`))
    expect(document.openapi).toBe('3.1.0')
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/connections',
        '/api/connections/{id}',
        '/api/connections/{id}/token',
        '/api/connections/{id}/refresh',
        '/proxy/{app}/{name}/{path}',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    )
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' })
  })
})

describe('request logs', () => {
  it('writes one JSON line per request, tokens handed out as a summary, and never the API key, a token or a cookie', async () => {
    f = await startServer('bookingsync')
    await connectBookingSync(f)
    const token = await json(await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' }))
    await f.api('/api/connections/acme-bs%2Fmain/token', { method: 'POST' })
    await f.api('/api/connections/acme-bs%2Fnobody/token', { method: 'POST' })
    await f.api('/api/connections?access_token=leaky-token-value')
    await f.server.close()
    const lines = f.logs
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const requests = lines.filter((line) => line.msg === 'request')
    const keyId = f.apiKey.split('_')[1]
    // Tokens handed out are counted, not logged one by one; a refused token request is logged.
    expect(requests.map((line) => [line.req.method, line.res.statusCode, line.apiKeyId])).toEqual([
      ['POST', 404, keyId],
      ['GET', 200, keyId],
    ])
    // Each line names its request, as do any other lines written while answering it.
    expect(new Set(requests.map((line) => line.reqId)).size).toBe(2)
    expect(lines.filter((line) => line.msg === 'requests summarized')).toEqual([
      expect.objectContaining({ level: 30, route: 'POST /api/connections/:id/token', answered: 2 }),
    ])
    const all = f.logs.join('')
    expect(all).not.toContain(f.apiKey)
    expect(all).not.toContain(token.accessToken)
    expect(all).not.toContain('leaky-token-value')
  })

  it('strips credentials from logged query strings', () => {
    expect(redactUrl('/callback?code=abc&state=xyz&keep=1')).toBe(
      '/callback?code=[redacted]&state=[redacted]&keep=1',
    )
    expect(redactUrl('/x?Access_Token=t')).toBe('/x?Access_Token=[redacted]')
    expect(redactUrl('/plain')).toBe('/plain')
  })
})
