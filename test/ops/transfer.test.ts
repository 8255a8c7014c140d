// Moving a store: `innkeeper export` from SQLite and `innkeeper import` into PostgreSQL, after
// which `innkeeper token` and `innkeeper refresh` work there with no new authorization (the
// emulator sees no second authorization-code request), and an import never overwrites newer data
// unless forced.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { Innkeeper } from '../../src/index.js'
import { cliEnv, runCli } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'
import {
  mustFailWhenUnavailable,
  POSTGRES_TEST_URL,
  requirePostgres,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'

const postgres = await requirePostgres()
const PASSPHRASE = 'a long export passphrase\n'
const TARGET_KEYS = `target:${Buffer.alloc(32, 5).toString('base64')}`

if (!postgres.available && mustFailWhenUnavailable()) {
  describe('export and import', () => {
    it('needs a running PostgreSQL under CI', () => {
      throw new Error(postgres.reason)
    })
  })
}

describe.runIf(postgres.available)('innkeeper export and import', () => {
  const schemas: string[] = []
  const dirs: string[] = []
  let emulator: EmulatorHandle | undefined

  afterEach(async () => {
    await emulator?.close()
    emulator = undefined
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  afterAll(async () => {
    const admin = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 1 })
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })

  async function sqliteSourceWithOneConnection(): Promise<{ home: string; accessToken: string }> {
    emulator = await startEmulator('bookingsync')
    const home = mkdtempSync(join(tmpdir(), 'innkeeper-export-'))
    dirs.push(home)
    const keeper = await Innkeeper.open({ home })
    await keeper.apps.add('bs', appFor(emulator, 'bookingsync'))
    const start = await keeper.authorize('bs', { scopes: ['rentals_read'] })
    await start.complete({ code: (await answerConsent(start.url)).code })
    const accessToken = await keeper.connection('bs/main').accessToken()
    await keeper.close()
    return { home, accessToken }
  }

  function postgresTarget(): NodeJS.ProcessEnv {
    const schema = uniqueTestName('ops')
    schemas.push(schema)
    const home = mkdtempSync(join(tmpdir(), 'innkeeper-import-'))
    dirs.push(home)
    return cliEnv({
      INNKEEPER_HOME: home,
      INNKEEPER_STORE: withQueryParam(POSTGRES_TEST_URL, 'schema', schema),
      INNKEEPER_KEYS: TARGET_KEYS,
    })
  }

  it('moves SQLite to PostgreSQL: innkeeper token and refresh work there with no new authorization', async () => {
    const source = await sqliteSourceWithOneConnection()
    const file = join(source.home, 'backup.json')
    const exported = await runCli(
      ['export', '--to', file],
      cliEnv({ INNKEEPER_HOME: source.home }),
      PASSPHRASE,
    )
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout).toContain('1 apps and 1 connections')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const text = readFileSync(file, 'utf8')
    expect(text).not.toContain(source.accessToken)
    expect(text).not.toContain(emulator!.info.clientSecret)
    expect(JSON.parse(text)).toMatchObject({
      format: 'innkeeper-export',
      version: 1,
      counts: { apps: 1, connections: 1 },
    })
    const authorizations = emulator!.stats().tokenRequests.authorization_code

    const target = postgresTarget()
    const imported = await runCli(['import', '--from', file], target, PASSPHRASE)
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain('Imported 1 apps and 1 connections')

    const token = await runCli(['token', 'bs/main'], target)
    expect(token.code, token.stderr).toBe(0)
    expect(token.stdout.trim()).toBe(source.accessToken)
    const refreshed = await runCli(['refresh', 'bs/main'], target)
    expect(refreshed.code, refreshed.stderr).toBe(0)
    const renewed = await runCli(['token', 'bs/main'], target)
    expect(renewed.stdout.trim()).not.toBe(source.accessToken)
    expect(emulator!.stats().tokenRequests.refresh_token).toBe(1)
    expect(emulator!.stats().tokenRequests.authorization_code).toBe(authorizations)

    // The secrets in PostgreSQL are sealed with the target's key, not the source's.
    const status = JSON.parse((await runCli(['keys', 'status', '--json'], target)).stdout)
    expect(status.keys).toEqual([{ id: 'target', current: true, loaded: true, records: 2 }])
  })

  it('refuses to import over newer data, reports it, and overwrites only with --force', async () => {
    const source = await sqliteSourceWithOneConnection()
    const file = join(source.home, 'backup.json')
    await runCli(['export', '--to', file], cliEnv({ INNKEEPER_HOME: source.home }), PASSPHRASE)
    const target = postgresTarget()
    expect((await runCli(['import', '--from', file], target, PASSPHRASE)).code).toBe(0)
    // The target moves on: a refresh there makes its copy newer than the file's.
    expect((await runCli(['refresh', 'bs/main'], target)).code).toBe(0)
    const newer = (await runCli(['token', 'bs/main'], target)).stdout.trim()

    const again = await runCli(['import', '--from', file, '--json'], target, PASSPHRASE)
    expect(again.code, again.stderr).toBe(0)
    const summary = JSON.parse(again.stdout)
    expect(summary.connections).toEqual({
      imported: [],
      skipped: [{ id: 'bs/main', reason: 'newer_in_target' }],
    })
    expect((await runCli(['token', 'bs/main'], target)).stdout.trim()).toBe(newer)

    const forced = await runCli(['import', '--from', file, '--force'], target, PASSPHRASE)
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.stdout).toContain('1 connections')
    expect((await runCli(['token', 'bs/main'], target)).stdout.trim()).toBe(source.accessToken)
  })

  it('a wrong passphrase opens nothing and says so without any secret', async () => {
    const source = await sqliteSourceWithOneConnection()
    const file = join(source.home, 'backup.json')
    await runCli(['export', '--to', file], cliEnv({ INNKEEPER_HOME: source.home }), PASSPHRASE)
    const wrong = await runCli(['import', '--from', file], postgresTarget(), 'not the passphrase\n')
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('passphrase is wrong')
    expect(wrong.stderr).not.toContain(source.accessToken)
  })
})
