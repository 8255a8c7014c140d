// A store that refuses writes just after BookingSync rotated the refresh token (the old one is dead
// there at once, and reusing it revokes the whole grant): a short outage is ridden out under the
// refresh lease, a long one leaves the new tokens sealed in the recovery journal, replayed into
// the store on the next open. Either way nobody consents again and the emulator sees no reuse.
// The outage is real: a PostgreSQL trigger that refuses every write of a connection row, added
// and dropped from another session. `innkeeper doctor` (built) reports an entry still waiting.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { InnkeeperError } from '../../src/errors.js'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'
import {
  mustFailWhenUnavailable,
  POSTGRES_TEST_URL,
  requirePostgres,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'

const postgres = await requirePostgres()
const ID = 'acme-bs/main'
const run = promisify(execFile)

let fixture: Fixture | undefined
let admin: pg.Client | undefined
let schema: string | undefined
let storeUrl = ''
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
  if (admin && schema) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin?.end()
  admin = undefined
})

/** A BookingSync connection (rotation and reuse detection on) on a PostgreSQL schema of its own. */
async function connected(leaseMs: number): Promise<Fixture> {
  schema = uniqueTestName('outage')
  storeUrl = withQueryParam(POSTGRES_TEST_URL, 'schema', schema)
  admin = new pg.Client({ connectionString: POSTGRES_TEST_URL })
  await admin.connect()
  const f = await setup('bookingsync', {
    emulator: { config: { reuseDetection: true } },
    keeper: { store: storeUrl, leaseMs },
  })
  fixture = f
  await f.keeper.apps.add('acme-bs', appFor(f.emulator, 'bookingsync'))
  const start = await f.keeper.authorize('acme-bs', { scopes: ['rentals_read'] })
  await start.complete({ code: (await answerConsent(start.url)).code })
  return f
}

/** From now on PostgreSQL refuses every write of a connection row, as a server going down would. */
async function refuseConnectionWrites(): Promise<void> {
  await admin!.query(`CREATE FUNCTION "${schema}".outage() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the database system is shutting down' USING ERRCODE = '57P03'; END $$`)
  await admin!.query(`CREATE TRIGGER outage BEFORE INSERT OR UPDATE ON "${schema}".innkeeper_connections
    FOR EACH ROW EXECUTE FUNCTION "${schema}".outage()`)
}

async function acceptConnectionWrites(): Promise<void> {
  await admin!.query(`DROP TRIGGER outage ON "${schema}".innkeeper_connections`)
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 30_000) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function journalFiles(f: Fixture): string[] {
  try {
    return readdirSync(join(f.dir, 'recovery')).map((name) => join(f.dir, 'recovery', name))
  } catch {
    return []
  }
}

describe.skipIf(!postgres.available && !mustFailWhenUnavailable())(
  'a refresh whose store write fails after the platform rotated the refresh token',
  () => {
    it('keeps the caller waiting through a short outage, then commits: still active, no reuse, no consent', async () => {
      const f = await connected(20_000)
      const before = await f.keeper.store.getConnection(ID)
      f.advance(7200)
      await refuseConnectionWrites()
      let answered = false
      const pending = f.keeper
        .connection(ID)
        .accessToken()
        .finally(() => {
          answered = true
        })
      await until(() => f.emulator.stats().tokenRequests.refresh_token === 1, 'the refresh')
      // The platform has answered (the old refresh token is dead there); the store refuses the write.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(answered).toBe(false) // nobody gets the new access token before it is committed
      await acceptConnectionWrites()
      const token = await pending

      const stored = await f.keeper.store.getConnection(ID)
      expect(stored?.state).toBe('active')
      expect(stored?.tokens?.accessToken).toBe(token)
      expect(stored?.tokens?.refreshToken).not.toBe(before?.tokens?.refreshToken)
      expect(stored?.previousRefreshToken).toBe(before?.tokens?.refreshToken)
      expect(journalFiles(f)).toEqual([])

      // The committed refresh token works: the next refresh needs no person either.
      f.advance(7200)
      const other = await f.reopen()
      await other.connection(ID).json('/rentals')
      expect((await other.connection(ID).info()).state).toBe('active')
      const stats = f.emulator.stats()
      expect(stats.tokenRequests.refresh_token).toBe(2)
      expect(stats.tokenRequests.authorization_code).toBe(1)
      expect(stats.reuseDetected).toBe(0)
      expect(stats.tokenErrors.invalid_grant).toBeUndefined()
    })

    it('journals the new tokens, sealed, when the outage outlasts the lease, and replays them on the next open', async () => {
      const f = await connected(1_500)
      const before = await f.keeper.store.getConnection(ID)
      f.advance(7200)
      await refuseConnectionWrites()
      const failure = await f.keeper
        .connection(ID)
        .accessToken()
        .then(
          () => undefined,
          (error: unknown) => error,
        )
      expect(failure).toBeInstanceOf(InnkeeperError)
      expect((failure as InnkeeperError).code).toBe('store_unavailable')
      expect((failure as InnkeeperError).details.journaled).toBe(true)
      expect((failure as InnkeeperError).message).toContain('recovery journal')
      expect(f.emulator.stats().tokenRequests.refresh_token).toBe(1)

      const [file, ...others] = journalFiles(f)
      expect(others).toEqual([])
      expect(statSync(file!).mode & 0o777).toBe(0o600)
      const raw = readFileSync(file!)
      // Still the pre-rotation token in the store: the store never saw the new one.
      expect((await f.keeper.store.getConnection(ID))?.tokens?.refreshToken).toBe(
        before?.tokens?.refreshToken,
      )

      // Opened while the store still refuses: the entry stays, and `doctor` reports it as pending.
      const waiting = await f.reopen()
      expect(waiting.recoveryJournal()).toEqual([
        expect.objectContaining({ connection: ID, path: file, status: 'pending' }),
      ])

      const doctor = await run(process.execPath, [resolve('dist/cli/main.js'), 'doctor'], {
        env: {
          ...process.env,
          INNKEEPER_HOME: f.dir,
          INNKEEPER_STORE: storeUrl,
          INNKEEPER_KEYS: f.keys,
          NO_COLOR: '1',
        },
      }).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => error,
      )
      expect(doctor.code).toBe(1)
      expect(doctor.stdout).toContain(`Renewed tokens of ${ID}`)
      expect(doctor.stdout).toContain(file)
      expect(doctor.stdout).toContain(`innkeeper refresh ${ID}`)

      // The process that journaled stops (so its background replay does not run): the next open replays.
      await f.keeper.close()
      await acceptConnectionWrites()
      const other = await f.reopen()
      expect(other.recoveryJournal()).toEqual([])
      const info = await other.connection(ID).info()
      expect(info.state).toBe('active')
      const stored = await other.store.getConnection(ID)
      expect(stored?.tokens?.refreshToken).not.toBe(before?.tokens?.refreshToken)
      expect(stored?.previousRefreshToken).toBe(before?.tokens?.refreshToken)
      expect(journalFiles(f)).toEqual([])
      // The journal held these tokens, sealed: none of them in its bytes.
      for (const secret of [
        stored!.tokens!.accessToken!,
        stored!.tokens!.refreshToken!,
        before!.tokens!.refreshToken!,
      ])
        expect(raw.includes(Buffer.from(secret))).toBe(false)

      // The replayed refresh token is the live one: the connection keeps renewing without a person.
      f.advance(7200)
      await other.connection(ID).json('/rentals')
      const stats = f.emulator.stats()
      expect(stats.tokenRequests.refresh_token).toBe(2)
      expect(stats.tokenRequests.authorization_code).toBe(1)
      expect(stats.reuseDetected).toBe(0)
      expect(stats.tokenErrors.invalid_grant).toBeUndefined()
      expect((await other.connection(ID).info()).state).toBe('active')
    })

    it('never replays a journaled token set over a connection connected again since', async () => {
      const f = await connected(1_500)
      f.advance(7200)
      await refuseConnectionWrites()
      await expect(f.keeper.connection(ID).accessToken()).rejects.toMatchObject({ code: 'store_unavailable' })
      const [file] = journalFiles(f)
      expect(file).toBeDefined()

      // The process that journaled stops (no background replay); another opens while the store
      // still refuses, the store comes back, and a person connects the account again there.
      await f.keeper.close()
      const next = await f.reopen()
      await acceptConnectionWrites()
      const start = await next.authorize('acme-bs', { scopes: ['rentals_read'] })
      await start.complete({ code: (await answerConsent(start.url)).code })
      const reconnected = await next.store.getConnection(ID)

      const other = await f.reopen()
      expect(other.recoveryJournal()).toEqual([expect.objectContaining({ path: file, status: 'other' })])
      const stored = await other.store.getConnection(ID)
      expect(stored?.tokens?.refreshToken).toBe(reconnected?.tokens?.refreshToken)
      expect(stored?.version).toBe(reconnected?.version)
      expect((await other.connection(ID).info()).state).toBe('active')
    })

    it('writes the journaled tokens into the store by itself once the store is back', async () => {
      const f = await connected(1_500)
      const before = await f.keeper.store.getConnection(ID)
      f.advance(7200)
      await refuseConnectionWrites()
      await expect(f.keeper.connection(ID).accessToken()).rejects.toMatchObject({ code: 'store_unavailable' })
      expect(journalFiles(f)).toHaveLength(1)

      await acceptConnectionWrites()
      // Nobody uses the connection: the process that journaled retries the replay in the background.
      await until(() => journalFiles(f).length === 0, 'the background replay')
      const stored = await f.keeper.store.getConnection(ID)
      expect(stored?.state).toBe('active')
      expect(stored?.previousRefreshToken).toBe(before?.tokens?.refreshToken)
      expect(stored?.tokens?.refreshToken).not.toBe(before?.tokens?.refreshToken)
      expect(f.emulator.stats().reuseDetected).toBe(0)
    })
  },
)
