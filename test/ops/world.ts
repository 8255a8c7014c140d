// What the key-rotation and unreadable-record tests share: the stores they run on (SQLite, and
// PostgreSQL in a schema of its own when it is up or CI requires it, dropped after the file), a
// BookingSync emulator and a home directory cleaned up after each test, and `bs/<name>`
// connections approved on the emulator's consent page.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import type { Innkeeper } from '../../src/index.js'
import { answerConsent } from '../support/consent.js'
import {
  mustFailWhenUnavailable,
  POSTGRES_TEST_URL,
  requirePostgres,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'

/** A store for one test: its URL given the test's home (undefined: the home's own SQLite default). */
export type StoreCase = [kind: string, url: (home: string) => string | undefined]

export interface OpsWorld {
  /** SQLite (as `sqliteFile` in the home, or the home's default), and PostgreSQL when it is up. */
  stores(): StoreCase[]
  /** Starts the test's BookingSync emulator, with tokens that live `accessTokenTtl` seconds. */
  startBookingSync(accessTokenTtl: number): Promise<EmulatorHandle>
  /** The running emulator (after `startBookingSync`). */
  emulator(): EmulatorHandle
  /** A fresh home directory for the test. */
  makeHome(prefix: string): string
}

/** Registers the clean-up hooks of the calling test file; call once, at its top level. */
export async function useOpsWorld(
  schemaPrefix: string,
  options: { sqliteFile?: string } = {},
): Promise<OpsWorld> {
  const postgres = await requirePostgres()
  const schemas: string[] = []
  afterAll(async () => {
    if (schemas.length === 0) return
    const admin = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 1 })
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })
  let emulator: EmulatorHandle | undefined
  let home: string | undefined
  afterEach(async () => {
    await emulator?.close()
    if (home) rmSync(home, { recursive: true, force: true })
    emulator = undefined
    home = undefined
  })
  const { sqliteFile } = options
  return {
    stores() {
      const cases: StoreCase[] = [
        ['sqlite', (dir) => (sqliteFile ? `sqlite:${join(dir, sqliteFile)}` : undefined)],
      ]
      if (postgres.available || mustFailWhenUnavailable()) {
        cases.push([
          'postgres',
          () => {
            if (!postgres.available) throw new Error(postgres.reason)
            const schema = uniqueTestName(schemaPrefix)
            schemas.push(schema)
            return withQueryParam(POSTGRES_TEST_URL, 'schema', schema)
          },
        ])
      }
      return cases
    },
    async startBookingSync(accessTokenTtl) {
      emulator = await startEmulator('bookingsync', { config: { accessTokenTtl } })
      return emulator
    },
    emulator() {
      if (!emulator) throw new Error('startBookingSync first')
      return emulator
    },
    makeHome(prefix) {
      home = mkdtempSync(join(tmpdir(), prefix))
      return home
    },
  }
}

/** Connects `bs/<name>` (app `bs`, BookingSync) with `rentals_read`, approved on the consent page. */
export async function connectBs(keeper: Innkeeper, name: string): Promise<void> {
  const start = await keeper.authorize('bs', { name, scopes: ['rentals_read'] })
  await start.complete({ code: (await answerConsent(start.url)).code })
}
