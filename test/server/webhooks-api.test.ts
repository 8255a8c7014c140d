// The webhook receivers API of `innkeeper serve`: behind the API key, the secret answered once,
// HTTPS (or loopback) only, and removal.
import { afterEach, describe, expect, it } from 'vitest'
import { json, type ServerFixture, startServer } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

describe('/api/webhooks', () => {
  it('adds a receiver, answers its secret once, lists it without the secret, and removes it', async () => {
    f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
    expect((await f.api('/api/webhooks', { key: null })).status).toBe(401)

    const added = await f.api('/api/webhooks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hooks', events: ['connection.needs_reauth'] }),
    })
    expect(added.status).toBe(201)
    const receiver = await json(added)
    expect(receiver.secret).toMatch(/^whsec_/)
    expect(receiver.events).toEqual(['connection.needs_reauth'])

    const listed = await f.api('/api/webhooks')
    const text = await listed.text()
    expect(listed.status).toBe(200)
    expect(text).toContain(receiver.id)
    expect(text).not.toContain(receiver.secret)

    expect((await f.api(`/api/webhooks/${receiver.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await json(await f.api('/api/webhooks'))).webhooks).toEqual([])
    expect((await f.api(`/api/webhooks/${receiver.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('refuses a plain-HTTP receiver off loopback and an unknown event', async () => {
    f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
    const post = (body: unknown) =>
      f.api('/api/webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const insecure = await post({ url: 'http://hooks.example.com/in' })
    expect(insecure.status).toBe(400)
    expect((await json(insecure)).error.message).toMatch(/HTTPS/)
    const unknown = await post({ url: 'https://hooks.example.com/in', events: ['booking.created'] })
    expect(unknown.status).toBe(400)
  })
})
