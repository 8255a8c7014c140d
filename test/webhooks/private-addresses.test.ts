// Webhook receivers on internal addresses (issue 13): an API key must not be able to point a
// receiver at loopback, private, link-local, CGNAT, unique-local or metadata addresses (in any
// spelling), nor learn from `lastError` what answers there. Checked when a receiver is added,
// and again for every delivery, after DNS resolution, unless the operator allows private
// receivers. What `lastError` says is only the class of failure.
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { WebhookDispatcher } from '../../src/index.js'
import {
  addressRange,
  checkReceiverAddress,
  isPublicAddress,
  publicOnlyLookup,
  RefusedAddressError,
} from '../../src/webhooks/address-policy.js'
import { WebhookPoster } from '../../src/webhooks/post.js'
import { connectBookingSync, json, type ServerFixture, startServer } from '../server/support.js'
import { startReceiver, type TestReceiver } from './receiver.js'

let f: ServerFixture | undefined
let dispatcher: WebhookDispatcher | undefined
const receivers: TestReceiver[] = []
afterEach(async () => {
  await dispatcher?.stop()
  dispatcher = undefined
  await f?.close()
  f = undefined
  for (const receiver of receivers.splice(0)) await receiver.close()
})

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitFor<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const value = await read()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('webhook receivers on internal addresses', () => {
  it('an API key cannot register a receiver on an internal address, however it is spelled', async () => {
    f = await startServer('bookingsync')
    const receiver = await startReceiver()
    receivers.push(receiver)
    const post = (url: string) =>
      f!.api('/api/webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      })
    for (const url of [
      receiver.url,
      'http://127.1/hooks',
      'http://2130706433/hooks',
      'http://0x7f.0.0.1/hooks',
      'https://127.0.0.1/hooks',
      'https://localhost/hooks',
      'https://hooks.localhost/hooks',
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.5/hooks',
      'https://172.16.3.4/hooks',
      'https://192.168.1.10/hooks',
      'https://100.64.0.1/hooks',
      'https://0.0.0.0/hooks',
      'https://[::1]/hooks',
      'https://[fd00:ec2::254]/hooks',
      'https://[fe80::1]/hooks',
      'https://[::ffff:127.0.0.1]/hooks',
      'https://[::ffff:a9fe:a9fe]/hooks',
    ]) {
      const answer = await post(url)
      expect(answer.status, url).toBe(400)
      const body = await json(answer)
      expect(body.error.code, url).toBe('forbidden_host')
      expect(body.error.message).toMatch(/--allow-private-webhooks/)
    }
    expect((await json(await f.api('/api/webhooks'))).webhooks).toEqual([])
    // A public address is fine.
    expect((await post('https://8.8.8.8/hooks')).status).toBe(201)
    expect(receiver.deliveries).toEqual([])
  })

  it('a receiver stored while private receivers were allowed gets nothing once they are not, and lastError says only why', async () => {
    f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
    const receiver = await startReceiver()
    receivers.push(receiver)
    const hook = await f.keeper.webhooks.add(receiver.url)
    await connectBookingSync(f) // connection.created waits in the outbox
    const strict = await f.reopen({ allowPrivateWebhooks: false })
    expect(strict.allowPrivateWebhooks).toBe(false)
    dispatcher = strict.startWebhookDispatcher({ idleMs: 20 })
    const delivery = await waitFor(async () => {
      const [first] = await f!.keeper.webhooks.deliveries({ receiverId: hook.id })
      return first?.attempts ? first : undefined
    }, 'a failed delivery')
    expect(delivery.lastError).toBe('address not allowed')
    expect(receiver.deliveries).toEqual([])
  })

  it('with private receivers allowed, lastError is a class of failure: no address, port or detail', async () => {
    f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
    const port = await closedPort()
    const poster = new WebhookPoster()
    const send = (url: string, timeoutMs = 10_000) =>
      poster.post(url, { headers: {}, body: '{}', timeoutMs, allowPrivateAddresses: true })
    try {
      expect(await send(`http://127.0.0.1:${port}/hooks`)).toEqual({ failure: 'connection refused' })
      const failing = await startReceiver()
      receivers.push(failing)
      failing.script = [500, 0]
      expect(await send(failing.url)).toEqual({ status: 500 })
      expect(await send(failing.url, 300)).toEqual({ failure: 'timeout' })
    } finally {
      poster.close()
    }

    // The same through the dispatcher and the API.
    const hook = await f.keeper.webhooks.add(`http://127.0.0.1:${port}/hooks`)
    await connectBookingSync(f)
    dispatcher = f.keeper.startWebhookDispatcher({ idleMs: 20 })
    await waitFor(async () => {
      const [first] = await f!.keeper.webhooks.deliveries({ receiverId: hook.id })
      return first?.attempts ? first : undefined
    }, 'a failed delivery')
    const listed = await json(await f.api('/api/webhooks'))
    expect(listed.deliveries.map((entry: { lastError: string }) => entry.lastError)).toEqual([
      'connection refused',
    ])
    expect(JSON.stringify(listed.deliveries)).not.toContain(String(port))
  })
})

describe('the address policy', () => {
  it('classifies addresses with ipaddr.js: public unicast only', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '[2606:4700::1111]'])
      expect(isPublicAddress(address), address).toBe(true)
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.31.0.1',
      '192.168.0.1',
      '169.254.169.254',
      '100.100.100.200', // a cloud metadata service in CGNAT space
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fd00:ec2::254',
      'fe80::1%eth0',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '64:ff9b::a00:1',
      '2002:a00:1::1',
      'not-an-address',
    ])
      expect(isPublicAddress(address), `${address} (${addressRange(address)})`).toBe(false)
  })

  it('judges names by every address they resolve to, when added and when connecting', async () => {
    const answers: Record<string, string[]> = {
      'public.test': ['93.184.215.14'],
      'mixed.test': ['93.184.215.14', '10.0.0.7'],
      'internal.test': ['169.254.169.254'],
    }
    const resolver = async (host: string) => {
      const found = answers[host]
      if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
      return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    }
    await expect(checkReceiverAddress(new URL('https://public.test/x'), resolver)).resolves.toBeUndefined()
    for (const host of ['mixed.test', 'internal.test'])
      await expect(checkReceiverAddress(new URL(`https://${host}/x`), resolver)).rejects.toMatchObject({
        code: 'forbidden_host',
      })
    // Not resolvable yet: accepted, and checked again at delivery.
    await expect(checkReceiverAddress(new URL('https://later.test/x'), resolver)).resolves.toBeUndefined()

    // At connection time the lookup hands the socket only what it checked.
    const lookup = publicOnlyLookup(resolver)
    const ask = (host: string, options: object) =>
      new Promise<{ error: Error | null; address: unknown }>((resolve) =>
        lookup(
          host,
          options as never,
          ((error: Error | null, address: unknown) => resolve({ error, address })) as never,
        ),
      )
    expect(await ask('public.test', { all: true })).toEqual({
      error: null,
      address: [{ address: '93.184.215.14', family: 4 }],
    })
    expect(await ask('public.test', {})).toEqual({ error: null, address: '93.184.215.14' })
    expect((await ask('mixed.test', { all: true })).error).toBeInstanceOf(RefusedAddressError)
    expect((await ask('localhost', {})).error).toBeInstanceOf(RefusedAddressError)
  })

  it('a name that turns internal after it was added is refused at delivery (DNS rebinding)', async () => {
    const receiver = await startReceiver()
    receivers.push(receiver)
    const port = new URL(receiver.url).port
    let lookups = 0
    // Public when the receiver is added, loopback (where the receiver listens) afterwards.
    const rebinding = async () => {
      lookups += 1
      return [{ address: lookups === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }]
    }
    const url = `http://rebind.test:${port}/hooks`
    await checkReceiverAddress(new URL(url), rebinding)
    const poster = new WebhookPoster()
    try {
      const outcome = await poster.post(url, {
        headers: {},
        body: '{}',
        timeoutMs: 10_000,
        allowPrivateAddresses: false,
        resolver: rebinding,
      })
      expect(outcome).toEqual({ failure: 'address not allowed' })
    } finally {
      poster.close()
    }
    expect(lookups).toBe(2)
    expect(receiver.deliveries).toEqual([])
  })
})
