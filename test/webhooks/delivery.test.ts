// Webhook delivery end to end, on every store: a receiver on loopback gets signed events for a
// bookingtime connection in order, verifies them with verifyWebhook(), answers 500 twice and then
// 200, and sees each event exactly once by id; `connection.refreshed` only goes to a receiver that
// asked for it; no body carries a token.
import { afterEach, describe, expect, it } from 'vitest'
import { verifyWebhook, type WebhookDispatcher } from '../../src/index.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'
import { startReceiver, type TestReceiver } from './receiver.js'
import { storeCases } from './stores.js'

let fixture: Fixture | undefined
let dispatcher: WebhookDispatcher | undefined
const receivers: TestReceiver[] = []
afterEach(async () => {
  await dispatcher?.stop()
  dispatcher = undefined
  await fixture?.close()
  fixture = undefined
  for (const receiver of receivers.splice(0)) await receiver.close()
})

for (const store of await storeCases()) {
  describe(`webhooks on ${store.name}`, () => {
    it('delivers signed events in order, retries 500s, and each event arrives exactly once', async () => {
      const url = store.url()
      // The receivers are on loopback: private receivers must be allowed.
      fixture = await setup('bookingtime', {
        keeper: { allowPrivateWebhooks: true, ...(url ? { store: url } : {}) },
      })
      const { keeper, emulator } = fixture
      const main = await startReceiver()
      const refreshOnly = await startReceiver()
      receivers.push(main, refreshOnly)
      main.script = [500, 500]
      const added = await keeper.webhooks.add(main.url)
      const refreshHook = await keeper.webhooks.add(refreshOnly.url, { events: ['connection.refreshed'] })
      expect(added.secret).toMatch(/^whsec_/)
      expect(added.events).not.toContain('connection.refreshed')
      expect(JSON.stringify(await keeper.webhooks.list())).not.toContain(added.secret)

      await keeper.apps.add('acme-bt', appFor(emulator, 'bookingtime'))
      await keeper.connect('acme-bt', { organizationId: emulator.info.organizationId })
      const conn = keeper.connection('acme-bt/main')
      const accessToken = await conn.accessToken()
      await conn.refresh()
      await keeper.disconnect('acme-bt/main')

      dispatcher = keeper.startWebhookDispatcher({ retryBaseMs: 40, retryMaxMs: 200, idleMs: 20 })
      const accepted = await main.waitForAccepted(2)
      await refreshOnly.waitForAccepted(1)
      await new Promise((resolve) => setTimeout(resolve, 200))

      const seen = new Set<string>()
      const events = []
      for (const delivery of accepted)
        events.push(await verifyWebhook(delivery.body, delivery.signature, added.secret, { seen }))
      expect(events.map((event) => event.type)).toEqual(['connection.created', 'connection.deleted'])
      expect(events.every((event) => event.connection.id === 'acme-bt/main')).toBe(true)
      // The first event was refused twice and retried; the second waited for it.
      expect(main.deliveries.map((d) => [JSON.parse(d.body).type, d.status])).toEqual([
        ['connection.created', 500],
        ['connection.created', 500],
        ['connection.created', 200],
        ['connection.deleted', 200],
      ])
      const refreshed = await verifyWebhook(
        refreshOnly.deliveries[0]!.body,
        refreshOnly.deliveries[0]!.signature,
        refreshHook.secret,
      )
      expect(refreshed.type).toBe('connection.refreshed')
      expect(refreshOnly.deliveries).toHaveLength(1)
      for (const delivery of [...main.deliveries, ...refreshOnly.deliveries]) {
        expect(delivery.body).not.toContain(accessToken)
        expect(delivery.body).not.toContain(added.secret)
      }
      expect(await keeper.webhooks.deliveries()).toEqual([])
    })

    it('a receiver URL must be HTTPS unless it is on loopback; unknown events are refused', async () => {
      const url = store.url()
      fixture = await setup('bookingtime', url ? { keeper: { store: url } } : {})
      await expect(fixture.keeper.webhooks.add('http://example.com/hooks')).rejects.toMatchObject({
        code: 'insecure_url',
      })
      await expect(
        fixture.keeper.webhooks.add('https://example.com/hooks', { events: ['connection.exploded'] }),
      ).rejects.toMatchObject({ code: 'invalid_config' })
      const added = await fixture.keeper.webhooks.add('https://example.com/hooks')
      await fixture.keeper.webhooks.remove(added.id)
      expect(await fixture.keeper.webhooks.list()).toEqual([])
      await expect(fixture.keeper.webhooks.remove(added.id)).rejects.toMatchObject({
        code: 'unknown_webhook',
      })
    })
  })
}
