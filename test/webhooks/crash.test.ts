// Issue 13 item 15: a webhook event is written in the same atomic write as the change that causes
// it, so a process killed right after the commit loses no event. A child process force-refreshes
// a connection and SIGKILLs itself just after the new tokens are committed (the test hook
// INNKEEPER_TEST_CRASH_AFTER_COMMIT); the `connection.refreshed` event is in the outbox anyway,
// on SQLite, PostgreSQL and Redis. The same for a connect and for a disconnect (its
// `connection.revoked` and `connection.deleted` are written with the delete).
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'
import { storeCases } from './stores.js'

const here = dirname(fileURLToPath(import.meta.url))

for (const store of await storeCases()) {
  describe(`[${store.name}]`, () => {
    let fixture: Fixture | undefined
    afterEach(async () => {
      await fixture?.close()
      fixture = undefined
    })

    it('a process killed right after committing a refresh leaves its webhook event in the outbox', async () => {
      const url = store.url()
      fixture = await setup('bookingtime', {
        keeper: { allowPrivateWebhooks: true, ...(url ? { store: url } : {}) },
      })
      const storeUrl = url ?? fixture.storeUrl
      await fixture.keeper.webhooks.add('http://127.0.0.1:9/hooks', {
        events: ['connection.refreshed', 'connection.created'],
      })
      await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
      await fixture.keeper.connect('acme-bt', { organizationId: fixture.emulator.info.organizationId })
      // The connect's own event (written with it in this process) is not what this test is about.
      for (const entry of await fixture.keeper.store.outbox.list())
        await fixture.keeper.store.outbox.complete(entry.id)
      const before = (await fixture.keeper.store.getConnection('acme-bt/main'))!
      expect(await fixture.keeper.store.outbox.list()).toEqual([])

      const child = spawn(process.execPath, [join(here, 'child-refresh.mjs')], {
        env: {
          ...process.env,
          STORE: storeUrl,
          KEYS: fixture.keys,
          CONNECTION: 'acme-bt/main',
          INNKEEPER_TEST_CRASH_AFTER_COMMIT: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk) => {
        output += chunk
      })
      child.stderr.on('data', (chunk) => {
        output += chunk
      })
      const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      )
      expect(exit.signal, output).toBe('SIGKILL')
      expect(output).not.toContain('survived')

      // The refresh was committed…
      const after = (await fixture.keeper.store.getConnection('acme-bt/main'))!
      expect(after.version).toBeGreaterThan(before.version)
      expect(after.tokens?.accessToken).not.toBe(before.tokens?.accessToken)
      // …and its event with it.
      const entries = await fixture.keeper.store.outbox.list()
      const events = entries.map(
        (entry) => JSON.parse(entry.body) as { type: string; connection: { id: string } },
      )
      expect(events.map((event) => [event.type, event.connection.id])).toEqual([
        ['connection.refreshed', 'acme-bt/main'],
      ])
    })
  })
}

for (const store of await storeCases()) {
  describe(`[${store.name}] connecting`, () => {
    let fixture: Fixture | undefined
    afterEach(async () => {
      await fixture?.close()
      fixture = undefined
    })

    it('a process killed right after committing a new connection leaves its webhook event in the outbox', async () => {
      const url = store.url()
      fixture = await setup('bookingtime', {
        keeper: { allowPrivateWebhooks: true, ...(url ? { store: url } : {}) },
      })
      await fixture.keeper.webhooks.add('http://127.0.0.1:9/hooks', { events: ['connection.created'] })
      await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
      const child = spawn(process.execPath, [join(here, 'child-refresh.mjs')], {
        env: {
          ...process.env,
          STORE: url ?? fixture.storeUrl,
          KEYS: fixture.keys,
          ACTION: 'connect',
          APP: 'acme-bt',
          ORGANIZATION: String(fixture.emulator.info.organizationId),
          INNKEEPER_TEST_CRASH_AFTER_COMMIT: '1',
        },
        stdio: ['ignore', 'ignore', 'ignore'],
      })
      const exit = await new Promise<string | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      )
      expect(exit).toBe('SIGKILL')
      expect((await fixture.keeper.store.getConnection('acme-bt/second'))?.state).toBe('active')
      const events = (await fixture.keeper.store.outbox.list()).map(
        (entry) => JSON.parse(entry.body) as { type: string; connection: { id: string } },
      )
      expect(events.map((event) => [event.type, event.connection.id])).toEqual([
        ['connection.created', 'acme-bt/second'],
      ])
    })
  })
}

for (const store of await storeCases()) {
  describe(`[${store.name}] disconnecting`, () => {
    let fixture: Fixture | undefined
    afterEach(async () => {
      await fixture?.close()
      fixture = undefined
    })

    it('a process killed right after committing a disconnect leaves its webhook events in the outbox', async () => {
      const url = store.url()
      fixture = await setup('bookingexperts', {
        keeper: { allowPrivateWebhooks: true, ...(url ? { store: url } : {}) },
      })
      await fixture.keeper.webhooks.add('http://127.0.0.1:9/hooks', {
        events: ['connection.revoked', 'connection.deleted'],
      })
      // Booking Experts has a revocation endpoint: the disconnect revokes the grant, then deletes.
      const redirect = 'http://127.0.0.1:9/booking_experts/oauth_callback'
      await fixture.keeper.apps.add(
        'acme-be',
        appFor(fixture.emulator, 'bookingexperts', { redirectUri: redirect }),
      )
      const start = await fixture.keeper.authorize('acme-be')
      const consent = await answerConsent(start.url)
      await fixture.keeper.completeAuthorization(consent.location!)
      expect(await fixture.keeper.store.outbox.list()).toEqual([])

      const child = spawn(process.execPath, [join(here, 'child-refresh.mjs')], {
        env: {
          ...process.env,
          STORE: url ?? fixture.storeUrl,
          KEYS: fixture.keys,
          ACTION: 'disconnect',
          CONNECTION: 'acme-be/main',
          INNKEEPER_TEST_CRASH_AFTER_COMMIT: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk) => {
        output += chunk
      })
      child.stderr.on('data', (chunk) => {
        output += chunk
      })
      const exit = await new Promise<string | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      )
      expect(exit, output).toBe('SIGKILL')
      expect(output).not.toContain('survived')

      // The delete was committed…
      expect(await fixture.keeper.store.getConnection('acme-be/main')).toBeNull()
      // …and both of its events with it, in order.
      const events = (await fixture.keeper.store.outbox.list()).map(
        (entry) => JSON.parse(entry.body) as { type: string; connection: { id: string; state: string } },
      )
      expect(events.map((event) => [event.type, event.connection.id, event.connection.state])).toEqual([
        ['connection.revoked', 'acme-be/main', 'revoked'],
        ['connection.deleted', 'acme-be/main', 'revoked'],
      ])
    })
  })
}
