// Opening the library starts only what the caller uses: a process that reads a token loads no
// webhook outbox writer and runs no dispatcher, yet its `token.issued` reaches the audit trail
// (through the same event path as every other entry); adding a receiver starts the outbox
// writer, and a dispatcher runs only once started, until stopped.
import { afterEach, describe, expect, it } from 'vitest'
import { appFor, type Fixture, setup } from '../support/keeper.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

async function connectedThenReopened() {
  fixture = await setup('bookingtime', { keeper: { allowPrivateWebhooks: true } })
  const { keeper, emulator } = fixture
  await keeper.apps.add('acme-bt', appFor(emulator, 'bookingtime'))
  await keeper.connect('acme-bt', { organizationId: emulator.info.organizationId })
  // A fresh process on the same store, as `innkeeper token` is.
  return fixture.reopen({ actor: 'cli:tester' })
}

describe('opening the library starts only what is used', () => {
  it('getting a token starts no webhook outbox and no dispatcher, and is audited', async () => {
    const reader = await connectedThenReopened()
    expect(reader.webhookActivity).toEqual({ outbox: false, dispatchers: 0 })
    const token = await reader.connection('acme-bt/main').token()
    expect(token.accessToken).not.toBe('')
    expect(reader.webhookActivity).toEqual({ outbox: false, dispatchers: 0 })
    await reader.audit.flush()
    const entries = await reader.audit.list({ connection: 'acme-bt/main' })
    expect(entries.map((entry) => [entry.action, entry.actor, entry.outcome])).toContainEqual([
      'token.issued',
      'cli:tester',
      'ok',
    ])
  })

  it('adding a webhook receiver starts the outbox writer, and the next change reaches the outbox', async () => {
    const reader = await connectedThenReopened()
    await reader.webhooks.add('http://127.0.0.1:9/hooks', { events: ['connection.refreshed'] })
    expect(reader.webhookActivity).toEqual({ outbox: true, dispatchers: 0 })
    await reader.connection('acme-bt/main').refresh()
    const deliveries = await reader.webhooks.deliveries()
    expect(deliveries.map((delivery) => [delivery.type, delivery.state])).toEqual([
      ['connection.refreshed', 'pending'],
    ])
  })

  it('a dispatcher runs from startWebhookDispatcher until it is stopped', async () => {
    const worker = await connectedThenReopened()
    const dispatcher = worker.startWebhookDispatcher({ idleMs: 20 })
    expect(worker.webhookActivity.dispatchers).toBe(1)
    await dispatcher.stop()
    expect(worker.webhookActivity.dispatchers).toBe(0)
  })
})
