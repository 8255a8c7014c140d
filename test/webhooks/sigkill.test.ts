// A dispatcher killed with SIGKILL in the middle of a delivery leaves its claimed outbox entry
// behind; once that claim's lease lapses, another process's dispatcher takes it over and
// completes delivery, still in order.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { verifyWebhook, type WebhookDispatcher, WebhookVerificationError } from '../../src/index.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'
import { startReceiver, type TestReceiver } from './receiver.js'

const here = dirname(fileURLToPath(import.meta.url))
let fixture: Fixture | undefined
let receiver: TestReceiver | undefined
let dispatcher: WebhookDispatcher | undefined
afterEach(async () => {
  await dispatcher?.stop()
  await fixture?.close()
  await receiver?.close()
})

it('a delivering process killed with SIGKILL leaves the outbox to another, which completes delivery', async () => {
  fixture = await setup('bookingtime', { keeper: { allowPrivateWebhooks: true } })
  receiver = await startReceiver()
  receiver.script = [0] // the first delivery is never answered: the child is killed while it waits
  const { secret } = await fixture.keeper.webhooks.add(receiver.url)
  await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
  await fixture.keeper.connect('acme-bt', { organizationId: fixture.emulator.info.organizationId })
  await fixture.keeper.connect('acme-bt', {
    organizationId: fixture.emulator.info.organizationId,
    name: 'second',
  })
  await fixture.keeper.disconnect('acme-bt/main')

  const child = spawn(process.execPath, [join(here, 'child-dispatcher.mjs')], {
    env: {
      ...process.env,
      STORE: fixture.storeUrl,
      KEYS: fixture.keys,
      LEASE_MS: '1500',
      INNKEEPER_ALLOW_PRIVATE_WEBHOOKS: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await new Promise<void>((resolve) => {
    receiver!.onRequest = () => resolve()
  })
  child.kill('SIGKILL')
  await exited
  // The child's claims are still in the store; nobody else may deliver them until the lease lapses.
  const claimed = (await fixture.keeper.store.outbox.list()).filter((entry) => entry.claimOwner)
  expect(claimed.length).toBeGreaterThan(0)

  dispatcher = fixture.keeper.startWebhookDispatcher({ idleMs: 20, retryBaseMs: 40 })
  const deadline = Date.now() + 60_000
  while ((await fixture.keeper.webhooks.deliveries()).length > 0) {
    if (Date.now() > deadline) throw new Error('the outbox was not emptied by the second dispatcher')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // At least once: what the killed child delivered before dying may come again; a receiver
  // drops repeats by event id, which verifyWebhook's `seen` set reports as a replay.
  const seen = new Set<string>()
  const events = []
  for (const delivery of receiver.deliveries.filter((d) => d.status >= 200 && d.status < 300)) {
    try {
      events.push(await verifyWebhook(delivery.body, delivery.signature, secret, { seen }))
    } catch (error) {
      if (!(error instanceof WebhookVerificationError && error.reason === 'replayed')) throw error
    }
  }
  expect(events).toHaveLength(3)
  const mainEvents = events
    .filter((event) => event.connection.id === 'acme-bt/main')
    .map((event) => event.type)
  expect(mainEvents).toEqual(['connection.created', 'connection.deleted'])
  expect(events.map((event) => event.connection.id)).toContain('acme-bt/second')
  expect(await fixture.keeper.webhooks.deliveries()).toEqual([])
})
