// The Redis store against a real server: the shared conformance suite (with a dump of every key
// to prove no secret is stored in plaintext), two clients standing for two processes racing for
// leases and claims, the key layout under the prefix, and password-free error messages.
// Every test uses a key prefix of its own, deleted afterwards. The local Redis runs without
// persistence, so nothing here relies on surviving a restart.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createKeyring, type Keyring } from '../../src/crypto/keyring.js'
import { StoreError } from '../../src/errors.js'
import { openRedisStore } from '../../src/stores/redis/store.js'
import {
  mustFailWhenUnavailable,
  REDIS_TEST_URL,
  requireRedis,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'
import { runStoreConformance, sampleApp, sampleConnection } from './conformance.js'

const redisService = await requireRedis()
const T0 = Date.now()

function testKeyring(): Keyring {
  return createKeyring([{ id: 'test', key: randomBytes(32) }])
}

const runPrefix = uniqueTestName('redis')
let prefixCounter = 0

function freshPrefix(): string {
  prefixCounter += 1
  return `${runPrefix}:${prefixCounter}:`
}

function prefixUrl(prefix: string): string {
  return withQueryParam(REDIS_TEST_URL, 'prefix', prefix)
}

if (!redisService.available && mustFailWhenUnavailable()) {
  describe('Redis store', () => {
    it('needs a running Redis under CI', () => {
      throw new Error(redisService.reason)
    })
  })
}

describe.runIf(redisService.available)('Redis store', () => {
  const admin = redisService.available ? new Redis(REDIS_TEST_URL, { lazyConnect: true }) : undefined

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await admin!.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      keys.push(...batch)
      cursor = next
    } while (cursor !== '0')
    return keys
  }

  async function deleteUnder(prefix: string): Promise<void> {
    const keys = await keysUnder(prefix)
    if (keys.length > 0) await admin!.del(...keys)
  }

  /** Every key under `prefix` with its value, as text: what sits in Redis's memory and on disk. */
  async function dumpUnder(prefix: string): Promise<string> {
    const parts: string[] = []
    for (const key of await keysUnder(prefix)) {
      const type = await admin!.type(key)
      const value =
        type === 'string'
          ? await admin!.get(key)
          : type === 'hash'
            ? await admin!.hgetall(key)
            : type === 'set'
              ? await admin!.smembers(key)
              : type === 'zset'
                ? await admin!.zrange(key, 0, -1, 'WITHSCORES')
                : `<${type}>`
      parts.push(`${key} ${JSON.stringify(value)}`)
    }
    return parts.join('\n')
  }

  afterAll(async () => {
    await deleteUnder(`${runPrefix}:`)
    admin?.disconnect()
  })

  runStoreConformance('redis', async () => {
    const prefix = freshPrefix()
    const keyring = testKeyring()
    const store = await openRedisStore(prefixUrl(prefix), { keyring })
    return {
      store,
      keyring,
      rawBytes: () => dumpUnder(prefix),
      openAnother: () => openRedisStore(prefixUrl(prefix), { keyring }),
      cleanup: () => deleteUnder(prefix),
    }
  })

  describe('keys and indexes', () => {
    it('keeps its keys under the prefix, and a connection leaves the due set once it needs a person', async () => {
      const prefix = freshPrefix()
      const store = await openRedisStore(prefixUrl(prefix), { keyring: testKeyring() })
      try {
        await store.putApp(sampleApp())
        const saved = await store.saveConnection(sampleConnection({ refreshDueAt: T0 - 1 }))
        expect(await admin!.zscore(`${prefix}due`, 'acme/main')).toBe(String(T0 - 1))
        await store.saveConnection({ ...saved, state: 'needs_reauth' }, saved.version)
        expect(await admin!.zscore(`${prefix}due`, 'acme/main')).toBeNull()
        expect(await store.claimDueConnections(T0, 10, 'worker-a', 1000)).toEqual([])

        expect((await keysUnder(prefix)).sort()).toEqual(
          [
            `${prefix}app-connections:acme`,
            `${prefix}app:acme`,
            `${prefix}apps`,
            `${prefix}connection:acme/main`,
            `${prefix}connections`,
          ].sort(),
        )
        expect(await store.deleteApp('acme')).toBe(true)
        expect(await keysUnder(prefix)).toEqual([])
      } finally {
        await store.close()
        await deleteUnder(prefix)
      }
    })

    it('a lease key is also given a Redis expiry, so abandoned leases do not pile up', async () => {
      const prefix = freshPrefix()
      const store = await openRedisStore(prefixUrl(prefix), { keyring: testKeyring() })
      try {
        await store.acquireLease('refresh:acme/main', 'worker-a', 5_000, Date.now())
        const ttl = await admin!.pttl(`${prefix}lease:refresh:acme/main`)
        expect(ttl).toBeGreaterThan(5_000)
      } finally {
        await store.close()
        await deleteUnder(prefix)
      }
    })
  })

  describe('configuration and failures', () => {
    it('an unreachable server is a store_unavailable error that never shows the password', async () => {
      const url = 'redis://:hunter2-very-secret@127.0.0.1:1/0?prefix=x:'
      const error = await openRedisStore(url, { keyring: testKeyring() }).then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(StoreError)
      expect((error as StoreError).code).toBe('store_unavailable')
      expect((error as StoreError).message).not.toContain('hunter2-very-secret')
      expect((error as StoreError).message).toContain('127.0.0.1:1')
    })

    it('with ?wait=1 and no replica, a token write is refused as not durable', async () => {
      const prefix = freshPrefix()
      const url = `${prefixUrl(prefix)}&wait=1&waitTimeout=50`
      const store = await openRedisStore(url, { keyring: testKeyring() })
      try {
        await expect(store.putApp(sampleApp())).rejects.toMatchObject({ code: 'store_unavailable' })
      } finally {
        await store.close()
        await deleteUnder(prefix)
      }
    })

    it('a closed store says so', async () => {
      const store = await openRedisStore(prefixUrl(freshPrefix()), { keyring: testKeyring() })
      await store.close()
      await expect(store.getApp('acme')).rejects.toMatchObject({ code: 'store_unavailable' })
    })
  })
})
