// verifyWebhook: what a receiver runs on every delivery. A good signature passes; a changed
// body, a wrong secret, an old timestamp and a replayed event id are refused.
import { describe, expect, it } from 'vitest'
import { signWebhook, verifyWebhook, WebhookVerificationError } from '../../src/index.js'

const secret = 'whsec_test-secret'
const body = JSON.stringify({
  id: 'evt_1',
  type: 'connection.created',
  createdAt: '2024-01-01T00:00:00.000Z',
  connection: { id: 'acme/main' },
})
const now = 1_700_000_000_000

async function reason(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(WebhookVerificationError)
  return (error as WebhookVerificationError).reason
}

describe('verifyWebhook', () => {
  it('accepts a delivery signed with the receiver secret and answers the event', async () => {
    const event = await verifyWebhook(body, signWebhook(body, secret, now), secret, { now })
    expect(event).toMatchObject({ id: 'evt_1', type: 'connection.created' })
  })

  it('refuses a body changed after signing, and a wrong secret', async () => {
    const header = signWebhook(body, secret, now)
    expect(await reason(verifyWebhook(body.replace('acme', 'evil'), header, secret, { now }))).toBe(
      'bad_signature',
    )
    expect(await reason(verifyWebhook(body, header, 'whsec_other', { now }))).toBe('bad_signature')
    expect(await reason(verifyWebhook(body, header.replace(/v1=./, 'v1=0'), secret, { now }))).toBe(
      'bad_signature',
    )
  })

  it('refuses a missing or malformed header', async () => {
    expect(await reason(verifyWebhook(body, undefined, secret, { now }))).toBe('malformed')
    expect(await reason(verifyWebhook(body, 'v1=abc', secret, { now }))).toBe('malformed')
  })

  it('refuses a timestamp outside the tolerance (stale), and accepts one inside', async () => {
    const header = signWebhook(body, secret, now - 301_000)
    expect(await reason(verifyWebhook(body, header, secret, { now }))).toBe('stale')
    await expect(verifyWebhook(body, header, secret, { now, toleranceSeconds: 600 })).resolves.toMatchObject({
      id: 'evt_1',
    })
  })

  it('refuses a replayed event id with a seen set or callback', async () => {
    const header = signWebhook(body, secret, now)
    const seen = new Set<string>()
    await verifyWebhook(body, header, secret, { now, seen })
    expect(await reason(verifyWebhook(body, header, secret, { now, seen }))).toBe('replayed')
    const ids: string[] = []
    const callback = (id: string): boolean => {
      if (ids.includes(id)) return true
      ids.push(id)
      return false
    }
    await verifyWebhook(body, header, secret, { now, seen: callback })
    expect(await reason(verifyWebhook(body, header, secret, { now, seen: callback }))).toBe('replayed')
  })
})
