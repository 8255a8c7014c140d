// The webhook outbox part of the store conformance suite: enqueue, claims with a lease, order
// per ordering key, retries, dead entries, and concurrent claimers. Called from
// `runStoreConformance` so every store (memory, SQLite, PostgreSQL, Redis) runs it.
import { describe, expect, it } from 'vitest'
import type { OutboxEntryInput } from '../../src/stores/outbox.js'
import type { Store } from '../../src/stores/store.js'

const T0 = 1_700_000_000_000

function entry(
  id: string,
  key = 'wh_1|acme/main',
  overrides: Partial<OutboxEntryInput> = {},
): OutboxEntryInput {
  return {
    id,
    eventId: `evt_${id}`,
    receiverId: key.split('|')[0]!,
    orderingKey: key,
    body: JSON.stringify({ id: `evt_${id}`, type: 'connection.created' }),
    createdAt: T0,
    nextAttemptAt: T0,
    ...overrides,
  }
}

export function describeOutboxConformance(current: () => Store): void {
  describe('webhook outbox', () => {
    it('claims an enqueued entry once, with its body, until the claim expires', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a')])
      const [claimed, ...rest] = await store.outbox.claim(T0, 10, 'one', 30_000)
      expect(rest).toEqual([])
      expect(claimed).toMatchObject({
        id: 'a',
        eventId: 'evt_a',
        state: 'pending',
        attempts: 0,
        claimOwner: 'one',
      })
      expect(JSON.parse(claimed!.body)).toEqual({ id: 'evt_a', type: 'connection.created' })
      expect(await store.outbox.claim(T0 + 29_999, 10, 'two', 30_000)).toEqual([])
      const again = await store.outbox.claim(T0 + 30_000, 10, 'two', 30_000)
      expect(again.map((e) => [e.id, e.claimOwner])).toEqual([['a', 'two']])
    })

    it('enqueueing an id twice keeps one entry', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a')])
      await store.outbox.enqueue([entry('a')])
      expect((await store.outbox.list()).map((e) => e.id)).toEqual(['a'])
    })

    it('does not claim an entry before its next attempt is due', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a', undefined, { nextAttemptAt: T0 + 1000 })])
      expect(await store.outbox.claim(T0, 10, 'one', 30_000)).toEqual([])
      expect(await store.outbox.claim(T0 + 1000, 10, 'one', 30_000)).toHaveLength(1)
    })

    it('keeps order per key: the next entry waits until the one before it is delivered', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a'), entry('b'), entry('x', 'wh_1|acme/other')])
      const first = await store.outbox.claim(T0, 10, 'one', 30_000)
      expect(first.map((e) => e.id).sort()).toEqual(['a', 'x'])
      expect(await store.outbox.claim(T0 + 1, 10, 'two', 30_000)).toEqual([])
      expect(await store.outbox.complete('a')).toBe(true)
      expect(await store.outbox.complete('a')).toBe(false)
      expect((await store.outbox.claim(T0 + 2, 10, 'two', 30_000)).map((e) => e.id)).toEqual(['b'])
    })

    it('a failed entry is retried at the time given and still holds back the later ones', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a'), entry('b')])
      await store.outbox.claim(T0, 10, 'one', 30_000)
      expect(await store.outbox.fail('a', 'someone-else', T0 + 5000, 'HTTP 500')).toBe(false)
      expect(await store.outbox.fail('a', 'one', T0 + 5000, 'HTTP 500')).toBe(true)
      expect(await store.outbox.claim(T0 + 4999, 10, 'one', 30_000)).toEqual([])
      const [retried] = await store.outbox.claim(T0 + 5000, 10, 'one', 30_000)
      expect(retried).toMatchObject({ id: 'a', attempts: 1, lastError: 'HTTP 500' })
    })

    it('a dead entry is kept for people to see and lets the next one go', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a'), entry('b')])
      await store.outbox.claim(T0, 10, 'one', 30_000)
      expect(await store.outbox.fail('a', 'one', null, 'gave up')).toBe(true)
      expect((await store.outbox.claim(T0, 10, 'one', 30_000)).map((e) => e.id)).toEqual(['b'])
      const dead = await store.outbox.list({ state: 'dead' })
      expect(dead.map((e) => [e.id, e.state, e.attempts, e.lastError])).toEqual([['a', 'dead', 1, 'gave up']])
      expect((await store.outbox.list({ receiverId: 'wh_1' })).map((e) => e.id)).toEqual(['a', 'b'])
    })

    it('purging a receiver removes its entries and no one else’s', async () => {
      const store = current()
      await store.outbox.enqueue([entry('a'), entry('b'), entry('c', 'wh_2|acme/main')])
      expect(await store.outbox.purge('wh_1')).toBe(2)
      expect((await store.outbox.list()).map((e) => e.id)).toEqual(['c'])
    })

    it('concurrent claimers never get the same entry, and together they get them all', async () => {
      const store = current()
      await store.outbox.enqueue(Array.from({ length: 24 }, (_, i) => entry(`e${i}`, `wh_1|acme/c${i}`)))
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.outbox.claim(T0, 5, `worker-${i}`, 30_000)),
      )
      const ids = results.flat().map((e) => e.id)
      expect(new Set(ids).size).toBe(ids.length)
      const rest = await store.outbox.claim(T0, 100, 'late', 30_000)
      expect(ids.length + rest.length).toBe(24)
    })
  })
}
