// The embedded SQLite store under real use: two OS processes refreshing one connection make one
// token request, and the file on disk holds no token or secret in clear.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

const run = promisify(execFile)
let fixture: Fixture
afterEach(async () => fixture?.close())

async function connect(f: Fixture) {
  await f.keeper.apps.add('acme-bs', appFor(f.emulator, 'bookingsync'))
  const start = await f.keeper.authorize('acme-bs', { scopes: ['rentals_read'] })
  const consent = await answerConsent(start.url)
  return start.complete({ code: consent.code })
}

describe('the SQLite store shared by processes', () => {
  it('lets two OS processes on one file refresh an expired connection with one token request', async () => {
    fixture = await setup('bookingsync', { emulator: { config: { latencyMs: 100, reuseDetection: true } } })
    await connect(fixture)
    fixture.advance(7200)
    const offset = String(fixture.now() - Date.now())
    const child = () =>
      run(process.execPath, [join(import.meta.dirname, '../support/child-token.mjs')], {
        env: {
          ...process.env,
          STORE: fixture.storeUrl,
          KEYS: fixture.keys,
          OFFSET_MS: offset,
          CALLERS: '100',
          CONNECTION: 'acme-bs/main',
        },
      })
    const [a, b] = await Promise.all([child(), child()])
    const tokens = new Set([...JSON.parse(a.stdout), ...JSON.parse(b.stdout)])
    expect(tokens.size).toBe(1)
    expect(fixture.emulator.stats().tokenRequests.refresh_token).toBe(1)
    expect(fixture.emulator.stats().reuseDetected).toBe(0)
  })

  it('keeps no token or client secret in clear in the database file', async () => {
    fixture = await setup('bookingsync')
    await connect(fixture)
    const conn = fixture.keeper.connection('acme-bs/main')
    fixture.advance(7200)
    const access = await conn.accessToken()
    const stored = await fixture.keeper.store.getConnection('acme-bs/main')
    const secrets = [
      access,
      stored!.tokens!.refreshToken!,
      stored!.previousRefreshToken!,
      fixture.emulator.info.clientSecret,
    ]
    expect(secrets.every(Boolean)).toBe(true)
    const raw = readdirSync(fixture.dir)
      .filter((name) => name.startsWith('innkeeper.db'))
      .map((name) => readFileSync(join(fixture.dir, name)).toString('latin1'))
      .join('')
    expect(raw.length).toBeGreaterThan(0)
    for (const secret of secrets) expect(raw).not.toContain(secret)
    expect(raw).toContain('acme-bs/main')
  })
})
