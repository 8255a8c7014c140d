// Issue 13 item 15: a webhook event is written in the same atomic write as the change that causes
// it, so a process killed right after the commit loses no event. A child process refreshes,
// connects or disconnects and SIGKILLs itself just after the commit (the test hook
// INNKEEPER_TEST_CRASH_AFTER_COMMIT); the change's events are in the outbox anyway, on SQLite,
// PostgreSQL and Redis (a disconnect writes `connection.revoked` and `connection.deleted` with
// the delete). One table row per change.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'
import { storeCases } from './stores.js'

const here = dirname(fileURLToPath(import.meta.url))

interface CrashCase {
  /** The change the child commits before it is killed. */
  change: string
  platform: 'bookingtime' | 'bookingexperts'
  events: string[]
  /** Sets the store up; answers the child's environment and a check that the change was committed. */
  prepare(f: Fixture): Promise<{ env: Record<string, string>; committed: () => Promise<void> }>
  /** The outbox after the crash, in order. */
  outbox: Array<{ type: string; connection: { id: string; state?: string } }>
}

async function connectBookingtime(f: Fixture): Promise<void> {
  await f.keeper.apps.add('acme-bt', appFor(f.emulator, 'bookingtime'))
  await f.keeper.connect('acme-bt', { organizationId: f.emulator.info.organizationId })
}

const CASES: CrashCase[] = [
  {
    change: 'a refresh',
    platform: 'bookingtime',
    events: ['connection.refreshed', 'connection.created'],
    async prepare(f) {
      await connectBookingtime(f)
      // The connect's own event (written with it in this process) is not what this case is about.
      for (const entry of await f.keeper.store.outbox.list()) await f.keeper.store.outbox.complete(entry.id)
      const before = (await f.keeper.store.getConnection('acme-bt/main'))!
      return {
        env: { CONNECTION: 'acme-bt/main' },
        committed: async () => {
          const after = (await f.keeper.store.getConnection('acme-bt/main'))!
          expect(after.version).toBeGreaterThan(before.version)
          expect(after.tokens?.accessToken).not.toBe(before.tokens?.accessToken)
        },
      }
    },
    outbox: [{ type: 'connection.refreshed', connection: { id: 'acme-bt/main' } }],
  },
  {
    change: 'a new connection',
    platform: 'bookingtime',
    events: ['connection.created'],
    async prepare(f) {
      await f.keeper.apps.add('acme-bt', appFor(f.emulator, 'bookingtime'))
      return {
        env: { ACTION: 'connect', APP: 'acme-bt', ORGANIZATION: String(f.emulator.info.organizationId) },
        committed: async () => {
          expect((await f.keeper.store.getConnection('acme-bt/second'))?.state).toBe('active')
        },
      }
    },
    outbox: [{ type: 'connection.created', connection: { id: 'acme-bt/second' } }],
  },
  {
    change: 'a disconnect',
    platform: 'bookingexperts',
    events: ['connection.revoked', 'connection.deleted'],
    async prepare(f) {
      // Booking Experts has a revocation endpoint: the disconnect revokes the grant, then deletes.
      const redirect = 'http://127.0.0.1:9/booking_experts/oauth_callback'
      await f.keeper.apps.add('acme-be', appFor(f.emulator, 'bookingexperts', { redirectUri: redirect }))
      const start = await f.keeper.authorize('acme-be')
      await f.keeper.completeAuthorization((await answerConsent(start.url)).location!)
      return {
        env: { ACTION: 'disconnect', CONNECTION: 'acme-be/main' },
        committed: async () => {
          expect(await f.keeper.store.getConnection('acme-be/main')).toBeNull()
        },
      }
    },
    outbox: [
      { type: 'connection.revoked', connection: { id: 'acme-be/main', state: 'revoked' } },
      { type: 'connection.deleted', connection: { id: 'acme-be/main', state: 'revoked' } },
    ],
  },
]

for (const store of await storeCases()) {
  describe.each(CASES)(`[${store.name}] $change`, (crash) => {
    let fixture: Fixture | undefined
    afterEach(async () => {
      await fixture?.close()
      fixture = undefined
    })

    it(`a process killed right after committing ${crash.change} leaves its webhook events in the outbox`, async () => {
      const url = store.url()
      fixture = await setup(crash.platform, {
        keeper: { allowPrivateWebhooks: true, ...(url ? { store: url } : {}) },
      })
      await fixture.keeper.webhooks.add('http://127.0.0.1:9/hooks', { events: crash.events })
      const { env, committed } = await crash.prepare(fixture)
      expect(await fixture.keeper.store.outbox.list()).toEqual([])

      const child = spawn(process.execPath, [join(here, 'child-refresh.mjs')], {
        env: {
          ...process.env,
          STORE: url ?? fixture.storeUrl,
          KEYS: fixture.keys,
          INNKEEPER_TEST_CRASH_AFTER_COMMIT: '1',
          ...env,
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
      const signal = await new Promise<string | null>((resolve) =>
        child.once('exit', (_code, exitSignal) => resolve(exitSignal)),
      )
      expect(signal, output).toBe('SIGKILL')
      expect(output).not.toContain('survived')

      // The change was committed…
      await committed()
      // …and its events with it, in order.
      const events = (await fixture.keeper.store.outbox.list()).map((entry) => JSON.parse(entry.body))
      expect(events).toMatchObject(crash.outbox)
    })
  })
}
