// The store conformance suite: every Store (memory, SQLite, PostgreSQL, Redis) runs these same
// cases, and a store that fails any of them does not ship.
//
// Usage, from `test/stores/<kind>.test.ts`:
//   runStoreConformance('sqlite', async () => ({ store, rawBytes, cleanup }))
// `open` is called once per test and must return an EMPTY store. `rawBytes`, when given, returns
// everything the store has written at rest (file bytes, a dump of rows or keys) so the suite can
// check that no secret is stored in plaintext. Times are passed explicitly: stores must judge
// expiry by the `now` argument they are given (tests move `now` forward instead of sleeping),
// except lease expiry in the stores whose `leaseClock` is `server` (PostgreSQL, Redis): there
// the lease cases shorten a lease and wait it out.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KeyEntry, Keyring } from '../../src/crypto/keyring.js'
import { StoreError } from '../../src/errors.js'
import type { TokenSet } from '../../src/model/token-set.js'
import type {
  AppRecord,
  AuditEntry,
  ConnectionRecord,
  Lease,
  PendingAuthorization,
  Store,
} from '../../src/stores/store.js'
import { refreshLeaseKey } from '../../src/stores/store.js'
import { describeOutboxConformance } from './outbox-conformance.js'

export interface OpenedStore {
  store: Store
  /** The keyring the store encrypts with (absent for the memory store), for the key-rotation cases. */
  keyring?: Keyring
  rawBytes?: () => Promise<Buffer | string>
  /**
   * A second handle on the same backing store (another pool or client, standing for another
   * process), for the cross-process cases; absent where a store lives in one process (memory).
   */
  openAnother?: () => Promise<Store>
  cleanup?: () => Promise<void>
}

const T0 = Date.now()
const MINUTE = 60_000

export function sampleApp(overrides: Partial<AppRecord> = {}): AppRecord {
  return {
    name: 'acme',
    provider: 'bookingsync',
    clientId: 'acme-client-id',
    clientSecret: 'acme-client-secret-value',
    redirectUri: 'urn:ietf:wg:oauth:2.0:oob',
    scopes: ['public', 'rentals_read'],
    settings: { baseUrl: 'https://www.bookingsync.com' },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  }
}

export function sampleTokens(overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: 'access-token-value-1',
    tokenType: 'Bearer',
    expiresAt: T0 + 2 * 60 * MINUTE,
    refreshToken: 'refresh-token-value-1',
    scope: ['public'],
    obtainedAt: T0,
    ...overrides,
  }
}

export function sampleConnection(overrides: Partial<ConnectionRecord> = {}): ConnectionRecord {
  const app = overrides.app ?? 'acme'
  const name = overrides.name ?? 'main'
  return {
    id: `${app}/${name}`,
    app,
    name,
    state: 'active',
    tokens: sampleTokens(),
    scopes: ['public'],
    metadata: { account: { id: 42, name: 'Beach House' } },
    failures: 0,
    refreshDueAt: T0 + 110 * MINUTE,
    createdAt: T0,
    updatedAt: T0,
    version: 0,
    ...overrides,
  }
}

export function samplePending(overrides: Partial<PendingAuthorization> = {}): PendingAuthorization {
  return {
    state: 'state-abc',
    app: 'acme',
    name: 'main',
    redirectUri: 'urn:ietf:wg:oauth:2.0:oob',
    scopes: ['public'],
    codeVerifier: 'code-verifier-value-0123456789',
    options: { prompt: 'consent' },
    createdAt: T0,
    expiresAt: T0 + 10 * MINUTE,
    ...overrides,
  }
}

/** The keyring's keys, current first (it keeps them private; a test may look). */
function snapshotKeys(keyring: Keyring): KeyEntry[] {
  const keys = (keyring as unknown as { keys: Map<string, Buffer> }).keys
  return keyring.keyIds().map((id) => ({ id, key: keys.get(id)! }))
}

function sortedBy<T>(items: T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => key(a).localeCompare(key(b)))
}

/** Polls `check` every 20 ms for up to 60 s (feeds deliver within about a second on an idle machine). */
async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the change was not heard within 60 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A lease short enough to wait out where the database server's clock judges leases. */
const SHORT_LEASE_MS = 300

/** Waits out a SHORT_LEASE_MS lease on a server clock; answers a caller `now` past it either way. */
async function pastShortLease(store: Store): Promise<number> {
  if (store.leaseClock === 'server') await new Promise((resolve) => setTimeout(resolve, 3 * SHORT_LEASE_MS))
  return T0 + SHORT_LEASE_MS + 1
}

/**
 * Makes a held lease expire: renewed to SHORT_LEASE_MS from now (T0 for a caller clock), then
 * waited out. Answers a `now` after its expiry for the stores that judge by the caller's clock.
 */
async function lapse(store: Store, lease: Lease): Promise<number> {
  expect(await store.renewLease(lease, SHORT_LEASE_MS, T0)).toBe(true)
  return pastShortLease(store)
}

/** A lease's expiry: exactly `expected` on a caller clock; about the server's now + TTL otherwise. */
function expectExpiry(store: Store, actual: number, expected: number): void {
  if (store.leaseClock === 'caller') expect(actual).toBe(expected)
  // The database runs on this machine in the tests: its clock is ours, give or take a minute.
  else expect(Math.abs(actual - (Date.now() + (expected - T0)))).toBeLessThan(60_000)
}

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error, `expected a StoreError '${code}'`).toBeInstanceOf(StoreError)
  expect((error as StoreError).code).toBe(code)
}

export function runStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`${name} store conformance`, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await open()
      store = opened.store
    })

    afterEach(async () => {
      await store.close()
      await opened.cleanup?.()
    })

    describe('two handles on one store (two processes)', () => {
      async function withTwo(
        context: { skip(): void },
        body: (first: Store, second: Store) => Promise<void>,
      ) {
        if (!opened.openAnother) return context.skip()
        const second = await opened.openAnother()
        try {
          await body(store, second)
        } finally {
          await second.close()
        }
      }

      it('the changes feed tells one handle of every connection the other saves or deletes', (context) =>
        withTwo(context, async (first, second) => {
          const heard: string[] = []
          const subscription = await first.watchChanges(
            ({ connection }) => connection !== undefined && heard.push(connection),
          )
          try {
            expect(subscription.live).toBe(true)
            await second.putApp(sampleApp())
            const saved = await second.saveConnection(sampleConnection({ name: 'one' }))
            await waitUntil(() => heard.includes('acme/one'))
            // What this handle has read (and a cache may hold) is always followed to its end.
            expect((await first.getConnection('acme/one'))?.version).toBe(saved.version)
            await second.saveConnection({ ...saved, failures: 1 }, saved.version)
            await second.deleteConnection('acme/one')
            await waitUntil(() => heard.filter((id) => id === 'acme/one').length >= 2)
            await second.saveConnection(sampleConnection({ name: 'two' }))
            await waitUntil(() => heard.includes('acme/two'))
            await second.deleteApp('acme')
            // Deleting an app names no connection: anything of it may have changed.
            await waitUntil(() => heard.includes('*') || heard.filter((id) => id === 'acme/two').length >= 2)
          } finally {
            await subscription.close()
          }
          expect(subscription.live).toBe(false)
        }))

      it('the changes feed tells of a change by the other handle even when this one reads it first', (context) =>
        withTwo(context, async (first, second) => {
          await second.putApp(sampleApp())
          const saved = await second.saveConnection(sampleConnection({ name: 'read-first' }))
          const heard: string[] = []
          const subscription = await first.watchChanges(
            ({ connection }) => connection !== undefined && heard.push(connection),
          )
          try {
            expect((await first.getConnection('acme/read-first'))?.version).toBe(saved.version)
            await second.saveConnection({ ...saved, failures: 1 }, saved.version)
            // Read at once, before a polling feed looks again: a cache in this process may still
            // hold the first version, so the change must be announced all the same.
            expect((await first.getConnection('acme/read-first'))?.failures).toBe(1)
            await waitUntil(() => heard.includes('acme/read-first'))
          } finally {
            await subscription.close()
          }
        }))

      it('the changes feed tells one handle of a document the other creates and deletes (an API key revoked)', (context) =>
        withTwo(context, async (first, second) => {
          const heard: string[] = []
          const subscription = await first.watchChanges(
            ({ document }) => document !== undefined && heard.push(document),
          )
          try {
            await second.putDocument('api_keys', 'k1', { name: 'ci' })
            // Read at once, before a polling feed looks: what this handle read is followed to its end.
            expect(await first.getDocument('api_keys', 'k1')).toEqual({ name: 'ci' })
            await waitUntil(() => heard.includes('api_keys/k1'))
            const before = heard.length
            expect(await second.deleteDocument('api_keys', 'k1')).toBe(true)
            await waitUntil(() => heard.slice(before).includes('api_keys/k1'))
          } finally {
            await subscription.close()
          }
        }))

      it('of two handles racing for the same leases, exactly one acquirer wins each key', (context) =>
        withTwo(context, async (first, second) => {
          for (let round = 0; round < 5; round++) {
            const key = `refresh:acme/race-${round}`
            const attempts = await Promise.all(
              Array.from({ length: 20 }, (_, i) =>
                (i % 2 === 0 ? first : second).acquireLease(key, `process-${i % 2}-caller-${i}`, 30_000, T0),
              ),
            )
            const winners = attempts.filter((lease) => lease !== null)
            expect(winners).toHaveLength(1)
            expect(await second.getLease(key, T0 + 1)).toEqual(winners[0])
          }
        }))

      it('two handles claiming due connections get disjoint sets that together cover every due one', (context) =>
        withTwo(context, async (first, second) => {
          await first.putApp(sampleApp())
          const total = 60
          for (let i = 0; i < total; i++) {
            await first.saveConnection(
              sampleConnection({ name: `c${String(i).padStart(2, '0')}`, refreshDueAt: T0 - 1000 + i }),
            )
          }
          const batches = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 === 0 ? first : second).claimDueConnections(T0, 5, `worker-${i}`, 30_000),
            ),
          )
          const rest = await second.claimDueConnections(T0, total, 'worker-late', 30_000)
          const claimed = [...batches.flat(), ...rest]
          const ids = claimed.map((entry) => entry.connection.id)
          expect(new Set(ids).size).toBe(ids.length)
          expect(ids).toHaveLength(total)
        }))
    })

    describe('apps', () => {
      it('stores an app and gives it back unchanged', async () => {
        await store.putApp(sampleApp())
        expect(await store.getApp('acme')).toEqual(sampleApp())
      })

      it('keeps an empty client secret (bookingtime Module API)', async () => {
        await store.putApp(sampleApp({ name: 'module', provider: 'bookingtime', clientSecret: '' }))
        expect((await store.getApp('module'))?.clientSecret).toBe('')
      })

      it('keeps optional fields absent when they were not given', async () => {
        const { redirectUri: _r, scopes: _s, ...minimal } = sampleApp()
        await store.putApp(minimal)
        const loaded = await store.getApp('acme')
        expect(loaded).toEqual(minimal)
        expect(loaded?.redirectUri).toBeUndefined()
        expect(loaded?.scopes).toBeUndefined()
      })

      it('replaces an app that is put again under the same name', async () => {
        await store.putApp(sampleApp())
        await store.putApp(sampleApp({ clientSecret: 'rotated-secret', updatedAt: T0 + 1 }))
        const loaded = await store.getApp('acme')
        expect(loaded?.clientSecret).toBe('rotated-secret')
        expect(loaded?.updatedAt).toBe(T0 + 1)
        expect(await store.listApps()).toHaveLength(1)
      })

      it('answers null for an unknown app and lists every app', async () => {
        expect(await store.getApp('nope')).toBeNull()
        await store.putApp(sampleApp({ name: 'b' }))
        await store.putApp(sampleApp({ name: 'a' }))
        const names = (await store.listApps()).map((app) => app.name).sort()
        expect(names).toEqual(['a', 'b'])
      })

      it('deleting an app removes its connections and pending authorizations, and nothing else', async () => {
        await store.putApp(sampleApp())
        await store.putApp(sampleApp({ name: 'other' }))
        await store.saveConnection(sampleConnection())
        await store.saveConnection(sampleConnection({ app: 'other' }))
        await store.putPendingAuthorization(samplePending())
        await store.putPendingAuthorization(samplePending({ state: 'state-other', app: 'other' }))

        expect(await store.deleteApp('acme')).toBe(true)

        expect(await store.getApp('acme')).toBeNull()
        expect(await store.getConnection('acme/main')).toBeNull()
        expect(await store.takePendingAuthorization('state-abc', T0)).toBeNull()
        expect(await store.getConnection('other/main')).not.toBeNull()
        expect(await store.latestPendingAuthorization('other', T0)).not.toBeNull()
      })

      it('deleting an app that does not exist answers false', async () => {
        expect(await store.deleteApp('nope')).toBe(false)
      })
    })

    describe('connections', () => {
      beforeEach(async () => {
        await store.putApp(sampleApp())
      })

      it('gives back exactly the tokens, metadata and last error that were saved', async () => {
        const record = sampleConnection({
          state: 'error',
          previousRefreshToken: 'previous-refresh-token-value',
          lastError: { code: 'provider_unavailable', message: 'The platform answered 503.', at: T0 + 5 },
          failures: 2,
          lastRefreshAt: T0 + 3,
          tokens: sampleTokens({ refreshTokenExpiresAt: T0 + 30 * 24 * 60 * MINUTE }),
        })
        const saved = await store.saveConnection(record)
        expect(saved).toEqual({ ...record, version: 1 })
        expect(await store.getConnection('acme/main')).toEqual({ ...record, version: 1 })
      })

      it('keeps optional fields absent and null tokens null', async () => {
        const record = sampleConnection({ tokens: null, refreshDueAt: undefined, metadata: {} })
        delete record.refreshDueAt
        await store.saveConnection(record)
        const loaded = await store.getConnection('acme/main')
        expect(loaded).toEqual({ ...record, version: 1 })
        expect(loaded?.tokens).toBeNull()
        expect(loaded?.previousRefreshToken).toBeUndefined()
        expect(loaded?.lastError).toBeUndefined()
        expect(loaded?.refreshDueAt).toBeUndefined()
        expect(loaded?.lastRefreshAt).toBeUndefined()
      })

      it('keeps a token set that has a refresh token and no access token (bookingtime first step)', async () => {
        const tokens: TokenSet = { tokenType: 'Bearer', refreshToken: 'only-refresh-token', obtainedAt: T0 }
        await store.saveConnection(sampleConnection({ tokens }))
        expect((await store.getConnection('acme/main'))?.tokens).toEqual(tokens)
      })

      it('answers null for an unknown connection', async () => {
        expect(await store.getConnection('acme/nope')).toBeNull()
      })

      it('refuses a connection whose app does not exist', async () => {
        await expectStoreError(store.saveConnection(sampleConnection({ app: 'ghost' })), 'unknown_app')
      })

      it('lists all connections, or only those of one app', async () => {
        await store.putApp(sampleApp({ name: 'other' }))
        await store.saveConnection(sampleConnection({ name: 'one' }))
        await store.saveConnection(sampleConnection({ name: 'two' }))
        await store.saveConnection(sampleConnection({ app: 'other', name: 'one' }))

        const all = sortedBy(await store.listConnections(), (c) => c.id).map((c) => c.id)
        expect(all).toEqual(['acme/one', 'acme/two', 'other/one'])
        const acme = sortedBy(await store.listConnections({ app: 'acme' }), (c) => c.id).map((c) => c.id)
        expect(acme).toEqual(['acme/one', 'acme/two'])
        expect(await store.listConnections({ app: 'nobody' })).toEqual([])
        const listed = (await store.listConnections({ app: 'other' }))[0]
        expect(listed?.tokens?.refreshToken).toBe('refresh-token-value-1')
      })

      it('deletes a connection, and answers false when there was none', async () => {
        await store.saveConnection(sampleConnection())
        expect(await store.deleteConnection('acme/main')).toBe(true)
        expect(await store.getConnection('acme/main')).toBeNull()
        expect(await store.deleteConnection('acme/main')).toBe(false)
      })

      it('increases the version by one on every save', async () => {
        const first = await store.saveConnection(sampleConnection(), 0)
        expect(first.version).toBe(1)
        const second = await store.saveConnection({ ...first, failures: 1 }, 1)
        expect(second.version).toBe(2)
        const third = await store.saveConnection({ ...second, failures: 2 })
        expect(third.version).toBe(3)
        expect((await store.getConnection('acme/main'))?.version).toBe(3)
      })

      it('a stale version cannot overwrite a newer token set', async () => {
        const created = await store.saveConnection(sampleConnection(), 0)
        const rotated = await store.saveConnection(
          { ...created, tokens: sampleTokens({ refreshToken: 'refresh-token-value-2' }) },
          created.version,
        )

        await expectStoreError(
          store.saveConnection(
            { ...created, tokens: sampleTokens({ refreshToken: 'refresh-token-value-stale' }) },
            created.version,
          ),
          'conflict',
        )

        const stored = await store.getConnection('acme/main')
        expect(stored?.tokens?.refreshToken).toBe('refresh-token-value-2')
        expect(stored?.version).toBe(rotated.version)
      })

      it('expected version 0 means "create": it fails when the connection already exists', async () => {
        await store.saveConnection(sampleConnection(), 0)
        await expectStoreError(store.saveConnection(sampleConnection({ failures: 9 }), 0), 'conflict')
        expect((await store.getConnection('acme/main'))?.failures).toBe(0)
      })

      it('an expected version other than 0 fails when the connection does not exist', async () => {
        await expectStoreError(store.saveConnection(sampleConnection(), 3), 'conflict')
        expect(await store.getConnection('acme/main')).toBeNull()
      })

      it('of many concurrent saves expecting the same version, exactly one wins', async () => {
        const created = await store.saveConnection(sampleConnection(), 0)
        const attempts = Array.from({ length: 20 }, (_, i) =>
          store.saveConnection(
            { ...created, tokens: sampleTokens({ refreshToken: `refresh-token-attempt-${i}` }) },
            created.version,
          ),
        )
        const results = await Promise.allSettled(attempts)
        const winners = results.filter((r) => r.status === 'fulfilled')
        expect(winners).toHaveLength(1)
        for (const loser of results.filter((r) => r.status === 'rejected')) {
          expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(StoreError)
          expect(((loser as PromiseRejectedResult).reason as StoreError).code).toBe('conflict')
        }
        const winner = (winners[0] as PromiseFulfilledResult<ConnectionRecord>).value
        expect((await store.getConnection('acme/main'))?.tokens?.refreshToken).toBe(
          winner.tokens?.refreshToken,
        )
      })
    })

    describe('pending authorizations', () => {
      beforeEach(async () => {
        await store.putApp(sampleApp())
      })

      it('can be taken exactly once, with the code verifier intact', async () => {
        await store.putPendingAuthorization(samplePending())
        expect(await store.takePendingAuthorization('state-abc', T0 + 1)).toEqual(samplePending())
        expect(await store.takePendingAuthorization('state-abc', T0 + 2)).toBeNull()
      })

      it('keeps an absent code verifier absent', async () => {
        const { codeVerifier: _v, ...withoutVerifier } = samplePending()
        await store.putPendingAuthorization(withoutVerifier)
        const taken = await store.takePendingAuthorization('state-abc', T0)
        expect(taken).toEqual(withoutVerifier)
        expect(taken?.codeVerifier).toBeUndefined()
      })

      it('an expired authorization cannot be taken', async () => {
        await store.putPendingAuthorization(samplePending())
        expect(await store.takePendingAuthorization('state-abc', T0 + 11 * MINUTE)).toBeNull()
      })

      it('an unknown state answers null', async () => {
        expect(await store.takePendingAuthorization('never-issued', T0)).toBeNull()
      })

      it('of many concurrent takes of one state, exactly one gets it', async () => {
        await store.putPendingAuthorization(samplePending())
        const takes = await Promise.all(
          Array.from({ length: 20 }, () => store.takePendingAuthorization('state-abc', T0)),
        )
        expect(takes.filter((taken) => taken !== null)).toHaveLength(1)
      })

      it('the latest unexpired authorization of an app is found, and not consumed', async () => {
        await store.putApp(sampleApp({ name: 'other' }))
        await store.putPendingAuthorization(samplePending({ state: 'old', createdAt: T0 }))
        await store.putPendingAuthorization(samplePending({ state: 'new', createdAt: T0 + 1000 }))
        await store.putPendingAuthorization(
          samplePending({ state: 'other-app', app: 'other', createdAt: T0 + 2000 }),
        )

        expect((await store.latestPendingAuthorization('acme', T0 + 2000))?.state).toBe('new')
        expect((await store.latestPendingAuthorization('acme', T0 + 2000))?.codeVerifier).toBe(
          'code-verifier-value-0123456789',
        )
        expect(await store.takePendingAuthorization('new', T0 + 2000)).not.toBeNull()
        expect((await store.latestPendingAuthorization('acme', T0 + 2000))?.state).toBe('old')
      })

      it('the latest pending authorization skips expired ones', async () => {
        await store.putPendingAuthorization(
          samplePending({ state: 'short', createdAt: T0 + 1000, expiresAt: T0 + 2000 }),
        )
        await store.putPendingAuthorization(
          samplePending({ state: 'long', createdAt: T0, expiresAt: T0 + 10 * MINUTE }),
        )
        expect((await store.latestPendingAuthorization('acme', T0 + 5000))?.state).toBe('long')
        expect(await store.latestPendingAuthorization('acme', T0 + 11 * MINUTE)).toBeNull()
        expect(await store.latestPendingAuthorization('nobody', T0)).toBeNull()
      })

      it('refuses a pending authorization whose app does not exist', async () => {
        await expectStoreError(store.putPendingAuthorization(samplePending({ app: 'ghost' })), 'unknown_app')
      })
    })

    describe('events written with their change', () => {
      const entry = (id: string) => ({
        id,
        eventId: `evt-${id}`,
        receiverId: 'wh_1',
        orderingKey: 'wh_1|acme/main',
        body: JSON.stringify({ id: `evt-${id}` }),
        createdAt: T0,
        nextAttemptAt: T0,
      })

      it('a save enqueues its outbox entries with it, and a refused save enqueues nothing', async () => {
        await store.putApp(sampleApp())
        const saved = await store.saveConnection(sampleConnection(), 0, [entry('created')])
        await expectStoreError(store.saveConnection(sampleConnection(), 0, [entry('refused')]), 'conflict')
        await store.saveConnection({ ...saved, failures: 1 }, saved.version, [entry('updated')])
        expect((await store.outbox.list()).map((queued) => queued.id)).toEqual(['created', 'updated'])
        const [claimed] = await store.outbox.claim(T0, 10, 'dispatcher', 30_000)
        expect(claimed).toMatchObject({
          id: 'created',
          body: JSON.stringify({ id: 'evt-created' }),
          createdAt: T0,
        })
      })

      it('a delete enqueues its outbox entries with it, and a delete of a missing connection enqueues nothing', async () => {
        await store.putApp(sampleApp())
        await store.saveConnection(sampleConnection())
        const heard: string[] = []
        const subscription = await store.watchChanges(
          ({ connection }) => connection !== undefined && heard.push(connection),
        )
        expect(await store.deleteConnection('acme/main', [entry('revoked'), entry('deleted')])).toBe(true)
        expect(await store.deleteConnection('acme/main', [entry('again')])).toBe(false)
        expect(await store.getConnection('acme/main')).toBeNull()
        expect((await store.outbox.list()).map((queued) => queued.id)).toEqual(['revoked', 'deleted'])
        // The delete is still heard on the changes feed.
        await waitUntil(() => heard.includes('acme/main'))
        await subscription.close()
      })
    })

    describe('changes feed', () => {
      it('a subscriber hears of connections saved and deleted through the same handle', async () => {
        const heard: string[] = []
        const subscription = await store.watchChanges(
          ({ connection }) => connection !== undefined && heard.push(connection),
        )
        await store.putApp(sampleApp())
        await store.saveConnection(sampleConnection({ name: 'mine' }))
        await store.deleteConnection('acme/mine')
        await waitUntil(() => heard.filter((id) => id === 'acme/mine').length >= 2)
        await subscription.close()
        const count = heard.length
        await store.saveConnection(sampleConnection({ name: 'after' }))
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(heard.slice(count)).not.toContain('acme/after')
      })
    })

    describe('leases', () => {
      const TTL = 30_000

      it('a free key is leased to the first owner who asks', async () => {
        const lease = await store.acquireLease('refresh:acme/main', 'worker-a', TTL, T0)
        expect(lease).toMatchObject({ key: 'refresh:acme/main', owner: 'worker-a' })
        expectExpiry(store, lease!.expiresAt, T0 + TTL)
        expect(lease?.fencingToken).toBeGreaterThan(0)
        expect(await store.getLease('refresh:acme/main', T0 + 1)).toEqual(lease)
      })

      it('a held lease keeps everyone else out until it expires', async () => {
        const held = await store.acquireLease('k', 'worker-a', TTL, T0)
        expect(await store.acquireLease('k', 'worker-b', TTL, T0 + TTL - 1)).toBeNull()
        const later = await lapse(store, held!)
        const taken = await store.acquireLease('k', 'worker-b', TTL, later)
        expect(taken?.owner).toBe('worker-b')
        expect(await store.getLease('k', later + 1)).toEqual(taken)
      })

      it('an expired lease is no longer reported as held', async () => {
        const held = await store.acquireLease('k', 'worker-a', TTL, T0)
        const later = await lapse(store, held!)
        expect(await store.getLease('k', later)).toBeNull()
        expect(await store.getLease('never-leased', T0)).toBeNull()
      })

      it('leases on different keys are independent', async () => {
        expect(await store.acquireLease('k1', 'worker-a', TTL, T0)).not.toBeNull()
        expect(await store.acquireLease('k2', 'worker-b', TTL, T0)).not.toBeNull()
      })

      it('renewing a held lease extends it', async () => {
        const lease = await store.acquireLease('k', 'worker-a', SHORT_LEASE_MS, T0)
        expect(await store.renewLease(lease!, TTL, T0 + SHORT_LEASE_MS - 1)).toBe(true)
        // Past the first expiry (waited out where the server's clock judges).
        const later = await pastShortLease(store)
        const held = await store.getLease('k', later)
        expect(held?.owner).toBe('worker-a')
        expect(held?.fencingToken).toBe(lease?.fencingToken)
        expectExpiry(store, held!.expiresAt, T0 + SHORT_LEASE_MS - 1 + TTL)
        expect(await store.acquireLease('k', 'worker-b', TTL, later)).toBeNull()
      })

      it('a lease that expired and was taken by someone else cannot be renewed or released', async () => {
        const lost = await store.acquireLease('k', 'worker-a', TTL, T0)
        const later = await lapse(store, lost!)
        const current = await store.acquireLease('k', 'worker-b', TTL, later)
        expect(await store.renewLease(lost!, TTL, later + 1)).toBe(false)
        expect(await store.releaseLease(lost!)).toBe(false)
        expect(await store.getLease('k', later + 2)).toEqual(current)
      })

      it('releasing frees the key at once; a released lease cannot be renewed or released again', async () => {
        const lease = await store.acquireLease('k', 'worker-a', TTL, T0)
        expect(await store.releaseLease(lease!)).toBe(true)
        expect(await store.getLease('k', T0 + 1)).toBeNull()
        expect(await store.renewLease(lease!, TTL, T0 + 2)).toBe(false)
        expect(await store.releaseLease(lease!)).toBe(false)
        expect((await store.acquireLease('k', 'worker-b', TTL, T0 + 3))?.owner).toBe('worker-b')
      })

      it('a release with the wrong fencing token fails and leaves the lease held', async () => {
        const lease = await store.acquireLease('k', 'worker-a', TTL, T0)
        const forged = { ...lease!, fencingToken: lease!.fencingToken + 1000 }
        expect(await store.releaseLease(forged)).toBe(false)
        expect(await store.renewLease(forged, TTL, T0 + 1)).toBe(false)
        expect(await store.getLease('k', T0 + 2)).toEqual(lease)
      })

      it('fencing tokens strictly increase with every grant, across release and expiry', async () => {
        const first = await store.acquireLease('k', 'worker-a', TTL, T0)
        await store.releaseLease(first!)
        const second = await store.acquireLease('k', 'worker-b', TTL, T0 + 1)
        const later = await lapse(store, second!)
        const third = await store.acquireLease('k', 'worker-c', TTL, later)
        expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken)
        expect(third!.fencingToken).toBeGreaterThan(second!.fencingToken)
      })

      it('of many concurrent acquirers of one key, exactly one wins', async () => {
        const attempts = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.acquireLease('contended', `worker-${i}`, TTL, T0)),
        )
        const winners = attempts.filter((lease) => lease !== null)
        expect(winners).toHaveLength(1)
        expect(await store.getLease('contended', T0 + 1)).toEqual(winners[0])
      })
    })

    describe('a refresh in two writes: lease with the read, save with the release', () => {
      const TTL = 30_000

      beforeEach(async () => {
        await store.putApp(sampleApp())
      })

      it('a free connection is leased and read at once; the next caller gets the record but no lease', async () => {
        const saved = await store.saveConnection(sampleConnection())
        const first = await store.leaseConnection('acme/main', 'caller-a', TTL, T0)
        expect(first.record).toEqual(saved)
        expect(first.lease).toMatchObject({ key: refreshLeaseKey('acme/main'), owner: 'caller-a' })
        expectExpiry(store, first.lease!.expiresAt, T0 + TTL)
        expect(await store.getLease(refreshLeaseKey('acme/main'), T0 + 1)).toEqual(first.lease)
        const second = await store.leaseConnection('acme/main', 'caller-b', TTL, T0 + 1)
        expect(second).toEqual({ lease: null, record: saved })
        expect(await store.acquireLease(refreshLeaseKey('acme/main'), 'caller-b', TTL, T0 + 1)).toBeNull()
      })

      it('an expired refresh lease is taken over, with a larger fencing token', async () => {
        await store.saveConnection(sampleConnection())
        const first = await store.leaseConnection('acme/main', 'caller-a', TTL, T0)
        const later = await lapse(store, first.lease!)
        const second = await store.leaseConnection('acme/main', 'caller-b', TTL, later)
        expect(second.lease?.owner).toBe('caller-b')
        expect(second.lease!.fencingToken).toBeGreaterThan(first.lease!.fencingToken)
      })

      it('a connection that does not exist is neither read nor leased', async () => {
        expect(await store.leaseConnection('acme/nobody', 'caller-a', TTL, T0)).toEqual({
          lease: null,
          record: null,
        })
        expect(await store.getLease(refreshLeaseKey('acme/nobody'), T0 + 1)).toBeNull()
      })

      it('the record comes with the lease as its last holder saved it when releasing', async () => {
        await store.saveConnection(sampleConnection())
        const { lease, record } = await store.leaseConnection('acme/main', 'caller-a', TTL, T0)
        const tokens = sampleTokens({
          accessToken: 'access-token-value-2',
          refreshToken: 'refresh-token-value-2',
        })
        const saved = await store.saveConnection({ ...record!, tokens }, record!.version, [], lease!)
        expect(await store.getLease(refreshLeaseKey('acme/main'), T0 + 1)).toBeNull()
        const next = await store.leaseConnection('acme/main', 'caller-b', TTL, T0 + 1)
        expect(next.lease?.owner).toBe('caller-b')
        expect(next.record).toEqual(saved)
        expect(next.record?.tokens?.refreshToken).toBe('refresh-token-value-2')
      })

      it('a save refused for its version leaves the lease held, and nothing written', async () => {
        const stored = await store.saveConnection(sampleConnection())
        const { lease, record } = await store.leaseConnection('acme/main', 'caller-a', TTL, T0)
        await expectStoreError(
          store.saveConnection({ ...record!, failures: 9 }, record!.version + 1, [], lease!),
          'conflict',
        )
        expect(await store.getLease(refreshLeaseKey('acme/main'), T0 + 1)).toEqual(lease)
        expect(await store.getConnection('acme/main')).toEqual(stored)
      })

      it('a save with a lease someone else now holds saves, and leaves their lease alone', async () => {
        await store.saveConnection(sampleConnection())
        const mine = await store.leaseConnection('acme/main', 'caller-a', TTL, T0)
        const later = await lapse(store, mine.lease!)
        const theirs = await store.acquireLease(refreshLeaseKey('acme/main'), 'caller-b', TTL, later)
        const saved = await store.saveConnection(
          { ...mine.record!, failures: 1 },
          mine.record!.version,
          [],
          mine.lease!,
        )
        expect(saved.failures).toBe(1)
        expect(await store.getLease(refreshLeaseKey('acme/main'), later + 1)).toEqual(theirs)
      })
    })

    describe('claiming due connections', () => {
      const LEASE_MS = 30_000

      beforeEach(async () => {
        await store.putApp(sampleApp())
      })

      async function saveDue(
        name: string,
        refreshDueAt: number | undefined,
        overrides: Partial<ConnectionRecord> = {},
      ) {
        const record = sampleConnection({ name, refreshDueAt, ...overrides })
        if (refreshDueAt === undefined) delete record.refreshDueAt
        return store.saveConnection(record)
      }

      it('claims only connections that are due, earliest first, and leases each one', async () => {
        await saveDue('later', T0 + 2000)
        await saveDue('first', T0 - 2000)
        await saveDue('second', T0 - 1000)
        await saveDue('never', undefined)

        const claimed = await store.claimDueConnections(T0, 10, 'worker-a', LEASE_MS)

        expect(claimed.map((c) => c.connection.id)).toEqual(['acme/first', 'acme/second'])
        for (const { connection, lease } of claimed) {
          expect(lease).toMatchObject({ key: `refresh:${connection.id}`, owner: 'worker-a' })
          expectExpiry(store, lease.expiresAt, T0 + LEASE_MS)
          expect(await store.getLease(`refresh:${connection.id}`, T0 + 1)).toEqual(lease)
        }
        expect(claimed[0]?.connection.tokens?.refreshToken).toBe('refresh-token-value-1')
        expect(claimed[0]?.connection.version).toBe(1)
      })

      it('claims only active connections and those in error, not ones that need a person or were revoked', async () => {
        await saveDue('active', T0 - 4)
        await saveDue('error', T0 - 3, { state: 'error', failures: 1 })
        await saveDue('reauth', T0 - 2, { state: 'needs_reauth' })
        await saveDue('revoked', T0 - 1, { state: 'revoked' })

        const claimed = await store.claimDueConnections(T0, 10, 'worker-a', LEASE_MS)
        expect(claimed.map((c) => c.connection.id)).toEqual(['acme/active', 'acme/error'])
      })

      it('respects the limit', async () => {
        for (let i = 0; i < 5; i++) await saveDue(`c${i}`, T0 - 100 + i)
        const claimed = await store.claimDueConnections(T0, 3, 'worker-a', LEASE_MS)
        expect(claimed.map((c) => c.connection.id)).toEqual(['acme/c0', 'acme/c1', 'acme/c2'])
      })

      it('skips a connection someone already holds the refresh lease on', async () => {
        await saveDue('busy', T0 - 2)
        await saveDue('free', T0 - 1)
        const held = await store.acquireLease('refresh:acme/busy', 'on-demand-caller', LEASE_MS, T0)

        const claimed = await store.claimDueConnections(T0, 10, 'worker-a', LEASE_MS)
        expect(claimed.map((c) => c.connection.id)).toEqual(['acme/free'])
        expect(await store.getLease('refresh:acme/busy', T0 + 1)).toEqual(held)
      })

      it('a claimed connection is not claimed again until its lease expires or is released', async () => {
        await saveDue('one', T0 - 1)
        const [first] = await store.claimDueConnections(T0, 10, 'worker-a', LEASE_MS)
        expect(first).toBeDefined()
        expect(await store.claimDueConnections(T0 + 1, 10, 'worker-b', LEASE_MS)).toEqual([])
        expect(await store.acquireLease('refresh:acme/one', 'on-demand-caller', LEASE_MS, T0 + 1)).toBeNull()

        const later = await lapse(store, first!.lease)
        const [again] = await store.claimDueConnections(later, 10, 'worker-b', LEASE_MS)
        expect(again?.lease.owner).toBe('worker-b')
        expect(again!.lease.fencingToken).toBeGreaterThan(first!.lease.fencingToken)

        expect(await store.releaseLease(again!.lease)).toBe(true)
        const [third] = await store.claimDueConnections(later + 1, 10, 'worker-c', LEASE_MS)
        expect(third?.lease.owner).toBe('worker-c')
      })

      it('concurrent claimers never get the same connection, and together they get them all', async () => {
        const total = 30
        for (let i = 0; i < total; i++) await saveDue(`c${String(i).padStart(2, '0')}`, T0 - 1000 + i)

        const batches = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.claimDueConnections(T0, 7, `worker-${i}`, LEASE_MS)),
        )
        const rest = await store.claimDueConnections(T0, total, 'worker-late', LEASE_MS)

        const ids = [...batches.flat(), ...rest].map((c) => c.connection.id)
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.length).toBe(total)
        for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(7)
      })

      it('answers an empty list when nothing is due', async () => {
        await saveDue('later', T0 + 1000)
        expect(await store.claimDueConnections(T0, 10, 'worker-a', LEASE_MS)).toEqual([])
      })
    })

    describe('isolation of stored state', () => {
      beforeEach(async () => {
        await store.putApp(sampleApp())
      })

      it('changing a record after saving it does not change what is stored', async () => {
        const record = sampleConnection()
        await store.saveConnection(record)
        record.tokens!.accessToken = 'mutated-by-caller'
        ;(record.metadata.account as { name: string }).name = 'mutated-by-caller'
        record.scopes.push('mutated')

        const loaded = await store.getConnection('acme/main')
        expect(loaded?.tokens?.accessToken).toBe('access-token-value-1')
        expect(loaded?.metadata).toEqual({ account: { id: 42, name: 'Beach House' } })
        expect(loaded?.scopes).toEqual(['public'])
      })

      it('changing a record that was loaded or returned does not change what is stored', async () => {
        const saved = await store.saveConnection(sampleConnection())
        saved.tokens!.refreshToken = 'mutated-by-caller'
        const loaded = await store.getConnection('acme/main')
        loaded!.tokens!.refreshToken = 'mutated-by-caller'
        ;(loaded!.metadata.account as { id: number }).id = 0
        const [listed] = await store.listConnections()
        listed!.scopes.push('mutated')

        const again = await store.getConnection('acme/main')
        expect(again?.tokens?.refreshToken).toBe('refresh-token-value-1')
        expect(again?.metadata).toEqual({ account: { id: 42, name: 'Beach House' } })
        expect(again?.scopes).toEqual(['public'])
      })

      it('changing an app, a pending authorization or a lease handed out does not change the stored one', async () => {
        const app = sampleApp()
        await store.putApp(app)
        app.settings.baseUrl = 'https://evil.example'
        const loadedApp = await store.getApp('acme')
        loadedApp!.scopes!.push('mutated')
        expect(await store.getApp('acme')).toEqual(sampleApp())

        const pending = samplePending()
        await store.putPendingAuthorization(pending)
        pending.options.prompt = 'mutated'
        const latest = await store.latestPendingAuthorization('acme', T0)
        latest!.scopes.push('mutated')
        expect(await store.takePendingAuthorization('state-abc', T0)).toEqual(samplePending())

        const lease = await store.acquireLease('k', 'worker-a', 1000, T0)
        lease!.fencingToken += 1000
        expect((await store.getLease('k', T0))?.fencingToken).toBe(lease!.fencingToken - 1000)
      })
    })

    describe('documents', () => {
      it('stores a document by collection and id and gives it back unchanged', async () => {
        const value = { hash: 'sha256:abc', label: 'ci', scopes: ['token:read'], nested: { n: 1 } }
        await store.putDocument('api_keys', 'key-1', value)
        expect(await store.getDocument('api_keys', 'key-1')).toEqual(value)
        expect(await store.getDocument('api_keys', 'missing')).toBeNull()
        expect(await store.getDocument('other', 'key-1')).toBeNull()
      })

      it('replaces a document put again, and lists a collection ordered by id', async () => {
        await store.putDocument('api_keys', 'b', { v: 1 })
        await store.putDocument('api_keys', 'a', { v: 1 })
        await store.putDocument('api_keys', 'b', { v: 2 })
        await store.putDocument('webhooks', 'c', { v: 3 })
        expect(await store.listDocuments('api_keys')).toEqual([
          { id: 'a', value: { v: 1 } },
          { id: 'b', value: { v: 2 } },
        ])
        expect(await store.listDocuments('nothing-here')).toEqual([])
      })

      it('deletes a document, and answers false when there was none', async () => {
        await store.putDocument('api_keys', 'a', { v: 1 })
        expect(await store.deleteDocument('api_keys', 'a')).toBe(true)
        expect(await store.deleteDocument('api_keys', 'a')).toBe(false)
        expect(await store.getDocument('api_keys', 'a')).toBeNull()
      })

      it('changing a document after putting or getting it does not change the stored one', async () => {
        const value = { tags: ['one'] }
        await store.putDocument('api_keys', 'a', value)
        value.tags.push('mutated')
        const loaded = await store.getDocument('api_keys', 'a')
        ;(loaded!.tags as string[]).push('mutated')
        expect(await store.getDocument('api_keys', 'a')).toEqual({ tags: ['one'] })
      })

      it('uses a document once: the first caller gets it marked used, later ones and expired ones get null', async () => {
        const value = { app: 'acme', options: { channel: 'x' }, list: [], expiresAt: T0 + 30 * MINUTE }
        await store.putDocument('connect_sessions', 'h1', value)
        await store.putDocument('connect_sessions', 'h2', { ...value, expiresAt: T0 })
        expect(await store.useDocumentOnce('connect_sessions', 'h1', T0)).toEqual({ ...value, usedAt: T0 })
        expect(await store.useDocumentOnce('connect_sessions', 'h1', T0 + 1)).toBeNull()
        expect(await store.getDocument('connect_sessions', 'h1')).toEqual({ ...value, usedAt: T0 })
        expect(await store.useDocumentOnce('connect_sessions', 'h2', T0)).toBeNull()
        expect(await store.getDocument('connect_sessions', 'h2')).toEqual({ ...value, expiresAt: T0 })
        expect(await store.useDocumentOnce('connect_sessions', 'missing', T0)).toBeNull()
        expect(await store.useDocumentOnce('other', 'h1', T0)).toBeNull()
      })

      it('uses a document once under concurrency: of many simultaneous callers exactly one wins', async () => {
        await store.putDocument('connect_sessions', 'race', { expiresAt: T0 + MINUTE })
        const others = opened.openAnother ? [await opened.openAnother()] : []
        try {
          const handles = [store, ...others]
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, index) =>
              handles[index % handles.length]!.useDocumentOnce('connect_sessions', 'race', T0),
            ),
          )
          expect(results.filter((result) => result !== null)).toHaveLength(1)
        } finally {
          for (const other of others) await other.close()
        }
      })
    })

    describeOutboxConformance(() => store)

    describe('key rotation', () => {
      const K2 = { id: 'rotated-k2', key: Buffer.alloc(32, 9) }

      /** Runs `body` with `rotate()` making K2 current (old keys still open), then restores the keyring. */
      async function withRotation(
        context: { skip(): void },
        body: (rotate: () => void, keys: { old: KeyEntry[]; keyring: Keyring }) => Promise<void>,
      ) {
        const keyring = opened.keyring
        if (!keyring) {
          context.skip()
          return
        }
        const old = snapshotKeys(keyring)
        try {
          await body(() => keyring.replaceKeys([K2, ...old]), { old, keyring })
        } finally {
          keyring.replaceKeys(old)
        }
      }

      async function seed(): Promise<string> {
        await store.putApp(sampleApp())
        await store.putApp(sampleApp({ name: 'other', clientSecret: 'other-secret' }))
        await store.saveConnection(sampleConnection())
        await store.saveConnection(sampleConnection({ app: 'other', previousRefreshToken: 'previous-value' }))
        await store.putPendingAuthorization(samplePending())
        await store.putPendingAuthorization(samplePending({ state: 'state-none', codeVerifier: undefined }))
        return opened.keyring!.currentKeyId
      }

      it('counts the secrets each key id sealed', async (context) => {
        if (!opened.keyring) return context.skip()
        const old = await seed()
        expect(await store.countSecretsByKeyId()).toEqual({ [old]: 5 })
      })

      it('re-seals every secret under the current key in batches, and every record still reads the same', async (context) => {
        await withRotation(context, async (rotate, { keyring }) => {
          const old = await seed()
          const before = {
            apps: await store.listApps(),
            connections: await store.listConnections(),
          }
          rotate()
          let cursor: string | null = null
          let reencrypted = 0
          let batches = 0
          do {
            const result = await store.reencryptSecrets(cursor, 2)
            cursor = result.cursor
            reencrypted += result.reencrypted
            batches += 1
            expect(result.skipped).toBe(0)
          } while (cursor !== null && batches < 20)
          expect(reencrypted).toBe(5)
          expect(batches).toBeGreaterThanOrEqual(3)
          expect(await store.countSecretsByKeyId()).toEqual({ [K2.id]: 5 })
          expect(old).not.toBe(K2.id)
          // Only the new key is needed now, and every record reads the same (versions included).
          keyring.replaceKeys([K2])
          expect(await store.listApps()).toEqual(before.apps)
          expect(await store.listConnections()).toEqual(before.connections)
          expect(await store.takePendingAuthorization('state-abc', T0)).toEqual(samplePending())
        })
      })

      it('a connection written under the old key after its pass is found by the next pass', async (context) => {
        await withRotation(context, async (rotate, { old, keyring }) => {
          await seed()
          rotate()
          let cursor: string | null = null
          do cursor = (await store.reencryptSecrets(cursor, 100)).cursor
          while (cursor !== null)
          // A process that still writes under the old key (it holds the new one only to read) saves.
          keyring.replaceKeys([...old, K2])
          const stale = await store.getConnection('acme/main')
          await store.saveConnection({ ...stale!, failures: 1 }, stale!.version)
          rotate()
          const counts = await store.countSecretsByKeyId()
          expect(counts[K2.id]).toBe(4)
          expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(5)
          expect(await store.reencryptSecrets(null, 100)).toEqual({
            cursor: null,
            reencrypted: 1,
            skipped: 0,
          })
          expect(await store.countSecretsByKeyId()).toEqual({ [K2.id]: 5 })
          expect((await store.getConnection('acme/main'))?.failures).toBe(1)
        })
      })

      it('re-sealing does not change a version: a save expecting the old version still succeeds', async (context) => {
        await withRotation(context, async (rotate) => {
          await seed()
          const held = await store.getConnection('acme/main')
          rotate()
          expect((await store.reencryptSecrets(null, 100)).reencrypted).toBe(5)
          const saved = await store.saveConnection(
            { ...held!, tokens: sampleTokens({ accessToken: 'after-rotation' }) },
            held!.version,
          )
          expect(saved.version).toBe(held!.version + 1)
          expect((await store.getConnection('acme/main'))?.tokens?.accessToken).toBe('after-rotation')
        })
      })
    })

    describe('audit trail', () => {
      const entry = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
        id: `${String(T0 + n).padStart(16, '0')}-${n}`,
        at: T0 + n,
        actor: 'cli:ops',
        action: 'token.issued',
        connection: 'acme/main',
        outcome: 'ok',
        ...overrides,
      })

      it('gives back what was appended, newest first', async () => {
        await store.appendAudit([entry(1)])
        // A batch is written whole.
        await store.appendAudit([
          entry(3, { detail: { code: 'invalid_grant', attempts: 2, retried: true } }),
          entry(2, { connection: undefined, action: 'keys.rotated', actor: 'cli:root' }),
        ])
        const listed = await store.listAudit()
        expect(listed.map((e) => e.at)).toEqual([T0 + 3, T0 + 2, T0 + 1])
        expect(listed[0]).toEqual(entry(3, { detail: { code: 'invalid_grant', attempts: 2, retried: true } }))
        const { connection: _c, ...rotated } = entry(2, { action: 'keys.rotated', actor: 'cli:root' })
        expect(listed[1]).toEqual(rotated)
        expect(listed[1]?.connection).toBeUndefined()
      })

      it('filters by connection and by time, and honours the limit', async () => {
        for (let n = 1; n <= 5; n += 1) await store.appendAudit([entry(n)])
        await store.appendAudit([entry(6, { connection: 'other/main' })])
        expect((await store.listAudit({ connection: 'other/main' })).map((e) => e.at)).toEqual([T0 + 6])
        expect((await store.listAudit({ connection: 'acme/main', since: T0 + 4 })).map((e) => e.at)).toEqual([
          T0 + 5,
          T0 + 4,
        ])
        expect((await store.listAudit({ limit: 2 })).map((e) => e.at)).toEqual([T0 + 6, T0 + 5])
      })

      it('counts entries since a time by bucket, action and outcome, without listing them', async () => {
        const HOUR = 3_600_000
        const base = Math.floor(T0 / HOUR) * HOUR + 10 * HOUR
        const at = (offset: number, n: number, overrides: Partial<AuditEntry> = {}) =>
          entry(n, { id: `${String(base + offset).padStart(16, '0')}-${n}`, at: base + offset, ...overrides })
        await store.appendAudit([
          at(-1, 1, { action: 'token.refreshed' }), // before `since`: not counted
          at(0, 2, { action: 'token.refreshed' }),
          at(HOUR - 1, 3, { action: 'token.refreshed', connection: 'other/main' }),
          at(HOUR - 1, 4, { action: 'connection.error', outcome: 'failed' }),
          at(HOUR, 5, { action: 'token.refreshed' }),
          at(2 * HOUR + 5, 6, { action: 'token.refreshed', outcome: 'failed' }),
          at(2 * HOUR + 6, 7, { action: 'keys.rotated', connection: undefined }),
        ])
        const counts = await store.countAudit(base, HOUR)
        const sorted = [...counts].sort(
          (a, b) =>
            a.bucket - b.bucket || a.action.localeCompare(b.action) || a.outcome.localeCompare(b.outcome),
        )
        expect(sorted).toEqual([
          { bucket: base, action: 'connection.error', outcome: 'failed', count: 1 },
          { bucket: base, action: 'token.refreshed', outcome: 'ok', count: 2 },
          { bucket: base + HOUR, action: 'token.refreshed', outcome: 'ok', count: 1 },
          { bucket: base + 2 * HOUR, action: 'keys.rotated', outcome: 'ok', count: 1 },
          { bucket: base + 2 * HOUR, action: 'token.refreshed', outcome: 'failed', count: 1 },
        ])
        expect(await store.countAudit(base + 3 * HOUR, HOUR)).toEqual([])
      })

      it('prunes entries older than a time, and only those', async () => {
        for (let n = 1; n <= 4; n += 1) await store.appendAudit([entry(n)])
        await store.appendAudit([entry(5, { connection: 'other/main' })])
        expect(await store.pruneAudit(T0 + 3)).toBe(2)
        expect((await store.listAudit()).map((e) => e.at)).toEqual([T0 + 5, T0 + 4, T0 + 3])
        expect((await store.listAudit({ connection: 'acme/main' })).map((e) => e.at)).toEqual([
          T0 + 4,
          T0 + 3,
        ])
        expect(await store.pruneAudit(T0 + 3)).toBe(0)
      })
    })

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })

    describe('encryption at rest', () => {
      it('no token, refresh token, client secret or code verifier is stored in plaintext', async (context) => {
        if (!opened.rawBytes) {
          context.skip()
          return
        }
        const secrets = {
          clientSecret: 'CLIENT-SECRET-d41d8cd98f00b204',
          accessToken: 'ACCESS-TOKEN-e9800998ecf8427e',
          refreshToken: 'REFRESH-TOKEN-5d41402abc4b2a76',
          previousRefreshToken: 'PREVIOUS-REFRESH-7d793037a0760186',
          codeVerifier: 'CODE-VERIFIER-9e107d9d372bb682',
        }
        await store.putApp(sampleApp({ name: 'at-rest-app', clientSecret: secrets.clientSecret }))
        await store.saveConnection(
          sampleConnection({
            app: 'at-rest-app',
            tokens: sampleTokens({ accessToken: secrets.accessToken, refreshToken: secrets.refreshToken }),
            previousRefreshToken: secrets.previousRefreshToken,
          }),
        )
        await store.putPendingAuthorization(
          samplePending({ app: 'at-rest-app', codeVerifier: secrets.codeVerifier }),
        )

        const raw = await opened.rawBytes()
        const text = typeof raw === 'string' ? raw : raw.toString('latin1')
        // The raw bytes must really hold the stored rows: the public app name is there.
        expect(text).toContain('at-rest-app')
        for (const [field, secret] of Object.entries(secrets)) {
          expect(text.includes(secret), `${field} found in plaintext at rest`).toBe(false)
          expect(
            text.includes(Buffer.from(secret).toString('base64')),
            `${field} found in base64 at rest`,
          ).toBe(false)
        }

        // And the secrets still come back intact through the store.
        expect((await store.getApp('at-rest-app'))?.clientSecret).toBe(secrets.clientSecret)
        const loaded = await store.getConnection('at-rest-app/main')
        expect(loaded?.tokens?.refreshToken).toBe(secrets.refreshToken)
        expect(loaded?.previousRefreshToken).toBe(secrets.previousRefreshToken)
      })

      it('keeps an API key sealed like a token, and never hands it to the refresher', async (context) => {
        const apiKey = 'API-KEY-0cc175b9c0f1b6a831c399e2'
        await store.putApp(sampleApp({ name: 'key-app' }))
        await store.saveConnection(
          sampleConnection({
            app: 'key-app',
            name: 'key',
            tokens: { accessToken: apiKey, tokenType: 'api_key', obtainedAt: T0 },
            scopes: [],
            metadata: { grant: 'api_key' },
            refreshDueAt: undefined,
          }),
        )
        const loaded = await store.getConnection('key-app/key')
        expect(loaded?.tokens).toEqual({ accessToken: apiKey, tokenType: 'api_key', obtainedAt: T0 })
        expect(loaded?.refreshDueAt).toBeUndefined()
        const claimed = await store.claimDueConnections(
          T0 + 10 * 365 * 24 * 60 * MINUTE,
          10,
          'worker-a',
          60_000,
        )
        expect(claimed.map((c) => c.connection.id)).not.toContain('key-app/key')
        if (!opened.rawBytes) {
          context.skip()
          return
        }
        const raw = await opened.rawBytes()
        const text = typeof raw === 'string' ? raw : raw.toString('latin1')
        expect(text).toContain('key-app')
        expect(text.includes(apiKey), 'API key found in plaintext at rest').toBe(false)
        expect(text.includes(Buffer.from(apiKey).toString('base64')), 'API key found in base64 at rest').toBe(
          false,
        )
      })
    })
  })
}
