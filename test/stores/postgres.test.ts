// The PostgreSQL store against a real server: the shared conformance suite (with a dump of every
// row to prove no secret is stored in plaintext), two pools standing for two processes racing
// for leases and claims, concurrent migrations, and password-free error messages.
// Every test runs in a schema of its own, dropped afterwards.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createKeyring, type Keyring } from '../../src/crypto/keyring.js'
import { StoreError } from '../../src/errors.js'
import { latestPostgresSchemaVersion } from '../../src/stores/postgres/migrations.js'
import { openPostgresStore } from '../../src/stores/postgres/store.js'
import {
  mustFailWhenUnavailable,
  POSTGRES_TEST_URL,
  requirePostgres,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'
import { runStoreConformance, sampleApp, sampleConnection } from './conformance.js'

const postgres = await requirePostgres()

function testKeyring(): Keyring {
  return createKeyring([{ id: 'test', key: randomBytes(32) }])
}

const runPrefix = uniqueTestName('pg')
let schemaCounter = 0
const createdSchemas: string[] = []

function freshSchema(): string {
  schemaCounter += 1
  const schema = `${runPrefix}_${schemaCounter}`
  createdSchemas.push(schema)
  return schema
}

function schemaUrl(schema: string): string {
  return withQueryParam(POSTGRES_TEST_URL, 'schema', schema)
}

if (!postgres.available && mustFailWhenUnavailable()) {
  describe('PostgreSQL store', () => {
    it('needs a running PostgreSQL under CI', () => {
      throw new Error(postgres.reason)
    })
  })
}

describe.runIf(postgres.available)('PostgreSQL store', () => {
  const admin = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 2 })

  async function dropSchema(schema: string): Promise<void> {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  }

  /** Every row of every Innkeeper table in `schema`, as JSON text: what sits at rest. */
  async function dumpSchema(schema: string): Promise<string> {
    const { rows } = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    )
    const parts: string[] = []
    for (const { table_name } of rows) {
      const dump = await admin.query(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${table_name}" t`)
      for (const row of dump.rows) parts.push(String(row.row))
    }
    return parts.join('\n')
  }

  afterAll(async () => {
    for (const schema of createdSchemas) await dropSchema(schema)
    await admin.end()
  })

  runStoreConformance('postgres', async () => {
    const schema = freshSchema()
    const keyring = testKeyring()
    const store = await openPostgresStore(schemaUrl(schema), { keyring })
    return {
      store,
      keyring,
      rawBytes: () => dumpSchema(schema),
      openAnother: () => openPostgresStore(schemaUrl(schema), { keyring }),
      cleanup: () => dropSchema(schema),
    }
  })

  describe('fencing tokens', () => {
    it('come from one sequence: claims by two pools never hand out the same token', async () => {
      const schema = freshSchema()
      const keyring = testKeyring()
      const first = await openPostgresStore(schemaUrl(schema), { keyring })
      const second = await openPostgresStore(schemaUrl(schema), { keyring })
      try {
        await first.putApp(sampleApp())
        for (let i = 0; i < 20; i++) {
          await first.saveConnection(sampleConnection({ name: `c${i}`, refreshDueAt: Date.now() - 1000 }))
        }
        const claimed = (
          await Promise.all(
            Array.from({ length: 4 }, (_, i) =>
              (i % 2 === 0 ? first : second).claimDueConnections(Date.now(), 5, `worker-${i}`, 30_000),
            ),
          )
        ).flat()
        // Concurrent claimers can pass over rows another one is taking: a last claim gets the rest.
        claimed.push(...(await second.claimDueConnections(Date.now(), 20, 'worker-late', 30_000)))
        const tokens = claimed.map((entry) => entry.lease.fencingToken)
        expect(tokens).toHaveLength(20)
        expect(new Set(tokens).size).toBe(tokens.length)
      } finally {
        await first.close()
        await second.close()
        await dropSchema(schema)
      }
    })
  })

  describe('migrations', () => {
    it('five pools opening the same fresh schema at once migrate it exactly once', async () => {
      const schema = freshSchema()
      const stores = await Promise.all(
        Array.from({ length: 5 }, () => openPostgresStore(schemaUrl(schema), { keyring: testKeyring() })),
      )
      try {
        const { rows } = await admin.query(
          `SELECT version FROM "${schema}".innkeeper_schema_migrations ORDER BY version`,
        )
        expect(rows.map((row) => row.version)).toEqual(
          Array.from({ length: latestPostgresSchemaVersion() }, (_, i) => i + 1),
        )
        for (const store of stores) await expect(store.ping()).resolves.toBeUndefined()
      } finally {
        for (const store of stores) await store.close()
      }
      // Opening again applies nothing and keeps the data.
      const keyring = testKeyring()
      const again = await openPostgresStore(schemaUrl(schema), { keyring })
      await again.putApp(sampleApp())
      await again.close()
      const reopened = await openPostgresStore(schemaUrl(schema), { keyring })
      expect((await reopened.getApp('acme'))?.clientSecret).toBe(sampleApp().clientSecret)
      await reopened.close()
    })
  })

  describe('configuration and failures', () => {
    it('an unreachable server is a store_unavailable error that never shows the password', async () => {
      const url = 'postgres://innkeeper:hunter2-very-secret@127.0.0.1:1/test?schema=whatever'
      const error = await openPostgresStore(url, { keyring: testKeyring() }).then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(StoreError)
      expect((error as StoreError).code).toBe('store_unavailable')
      expect((error as StoreError).message).not.toContain('hunter2-very-secret')
      expect((error as StoreError).message).toContain('127.0.0.1:1')
    })

    it('refuses a schema name that is not a plain identifier', async () => {
      const error = await openPostgresStore(schemaUrl('bad"; DROP TABLE x; --'), {
        keyring: testKeyring(),
      }).then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect((error as StoreError).code).toBe('invalid_config')
    })

    it('a closed store says so', async () => {
      const schema = freshSchema()
      const store = await openPostgresStore(schemaUrl(schema), { keyring: testKeyring() })
      await store.close()
      await expect(store.getApp('acme')).rejects.toMatchObject({ code: 'store_unavailable' })
    })
  })
})
