// BookingSync / Smily from a terminal: the out-of-band flow end to end (the URL is the first line
// of stdout, the code goes to stdin), `--code`, `token`, `request`, expiry and rotation, JSON
// listings, and disconnect — with no secret ever printed except by `token`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'

let emulator: EmulatorHandle
let home: Home

beforeAll(async () => {
  emulator = await startEmulator('smily')
  home = makeHome()
  await addApp(home, 'smily', 'smily', emulator, ['--scope', 'public rentals_read'])
})
afterAll(async () => {
  await emulator.close()
  home.close()
})

describe('BookingSync / Smily from the CLI', () => {
  it('connects out of band: prints the URL first, reads the pasted code from stdin', async () => {
    const connect = home.start(['connect', 'smily'])
    const url = await connect.firstLine
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?/)
    expect(new URL(url).searchParams.get('redirect_uri')).toBe('urn:ietf:wg:oauth:2.0:oob')
    const consent = await answerConsent(url)
    connect.child.stdin.end(`${consent.code}\n`)
    const result = await connect.done
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Connected smily/main')
    expect(result.stdout).toContain('public rentals_read')
  })

  it('connects with the app’s own credentials for public data, no person involved', async () => {
    const other = makeHome()
    try {
      await addApp(other, 'smily', 'smily', emulator, ['--scope', 'public rentals_read'])
      const result = await other.run(['connect', 'smily', '--name', 'bulk', '--client-credentials', '--json'])
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({
        id: 'smily/bulk',
        hasRefreshToken: false,
        scopes: ['public'],
      })
      const token = await other.run(['token', 'smily/bulk'])
      expect(token.stdout).toMatch(/^\S+\n$/)
    } finally {
      other.close()
    }
  })

  it('warns on stderr about a scope BookingSync does not list, and still asks for it', async () => {
    const other = makeHome()
    try {
      const added = await addApp(other, 'smily', 'smily', emulator, ['--scope', 'public reviews_read'])
      expect(added.stderr).toMatch(/warning: .*does not list the scope reviews_read/)
      const connect = other.start(['connect', 'smily'])
      const url = await connect.firstLine
      expect(new URL(url).searchParams.get('scope')).toBe('public reviews_read')
      connect.child.stdin.end()
      const result = await connect.done
      expect(result.stderr).toMatch(/warning: .*does not list the scope reviews_read.*invalid_scope/)
    } finally {
      other.close()
    }
  })

  it('completes a pending authorization with --code', async () => {
    const connect = home.start(['connect', 'smily', '--name', 'second'])
    const url = await connect.firstLine
    connect.child.stdin.end() // the person closes the prompt and pastes the code later
    const abandoned = await connect.done
    expect(abandoned.code).toBe(2)
    expect(abandoned.stderr).toContain('innkeeper connect smily --code CODE')
    const consent = await answerConsent(url)
    const result = await home.run(['connect', 'smily', '--code', consent.code!])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Connected smily/second')
  })

  it('lists connections and shows one as parseable JSON', async () => {
    const list = JSON.parse((await home.run(['connections', '--json'])).stdout)
    expect(list.map((c: { id: string }) => c.id).sort()).toEqual(['smily/main', 'smily/second'])
    const shown = JSON.parse((await home.run(['show', 'smily/main', '--json'])).stdout)
    expect(shown).toMatchObject({
      id: 'smily/main',
      provider: 'bookingsync',
      state: 'active',
      hasRefreshToken: true,
    })
    const apps = JSON.parse((await home.run(['apps', 'list', '--json'])).stdout)
    expect(apps[0]).toMatchObject({ name: 'smily', provider: 'bookingsync', hasClientSecret: true })
    const piped = await home.run(['connections'])
    expect(piped.stdout.split('\n')[0]?.split('\t')[0]).toBe('smily/main')
  })

  it('prints only the access token with `token`', async () => {
    const result = await home.run(['token', 'smily/main'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/)
    expect(result.stderr).toBe('')
  })

  it('makes authenticated requests and prints the raw body when piped', async () => {
    const result = await home.run(['request', 'smily/main', 'GET', '/rentals'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).rentals.length).toBeGreaterThan(0)
  })

  it('exits 4 with the platform’s message on an HTTP error', async () => {
    const result = await home.run(['request', 'smily/main', 'GET', '/no-such-thing'])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(
      /^innkeeper: BookingSync \(Smily\) answered GET \/api\/v3\/no-such-thing with HTTP 404/,
    )
  })

  it('refreshes once when the token expired at the platform, rotating the refresh token', async () => {
    const before = (await home.run(['token', 'smily/main'])).stdout
    const refreshes = emulator.stats().tokenRequests.refresh_token ?? 0
    emulator.advance(7200 + 60)
    const result = await home.run(['request', 'smily/main', 'GET', '/rentals'])
    expect(result.code).toBe(0)
    expect(emulator.stats().tokenRequests.refresh_token).toBe(refreshes + 1)
    const after = (await home.run(['token', 'smily/main'])).stdout
    expect(after).not.toBe(before)
    // The rotated refresh token works: a forced refresh succeeds.
    const refreshed = await home.run(['refresh', 'smily/main'])
    expect(refreshed.code).toBe(0)
    expect(refreshed.stdout).toContain('Refreshed smily/main')
  })

  it('refreshes everything with --all and a summary', async () => {
    const result = await home.run(['refresh', '--all', '--json'])
    expect(result.code).toBe(0)
    const outcomes = JSON.parse(result.stdout)
    expect(outcomes.every((o: { ok: boolean }) => o.ok)).toBe(true)
    const plain = await home.run(['refresh', '--all'])
    expect(plain.stderr).toContain('Refreshed 2 of 2 connections.')
  })

  it('disconnects by forgetting the tokens, says the grant stays valid until the owner uninstalls, and never printed a secret except through `token`', async () => {
    const grantsBefore = emulator.stats().families
    const result = await home.run(['disconnect', 'smily/second'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('smily/second is removed: Innkeeper deleted its tokens.')
    expect(result.stdout).toContain(
      'BookingSync (Smily) has no revocation endpoint, so the grant is still valid there. Only the account owner can revoke it, by uninstalling the application',
    )
    expect(result.stdout).not.toMatch(/revoked/i)
    // BookingSync was not asked to revoke anything: every grant it issued is still alive.
    expect(emulator.stats().families).toEqual(grantsBefore)
    const list = JSON.parse((await home.run(['connections', '--json'])).stdout)
    expect(list.map((c: { id: string }) => c.id)).toEqual(['smily/main'])
    const everything = home.transcript.join('\n')
    expect(everything).not.toContain(emulator.info.clientSecret)
  })

  it('exits 3 when the grant is gone, and doctor names the command that fixes it', async () => {
    emulator.revokeAll() // the owner uninstalls the app
    const refreshed = await home.run(['refresh', 'smily/main'])
    expect(refreshed.code).toBe(3)
    expect(refreshed.stderr).toMatch(/^innkeeper: .+/)
    const doctor = await home.run(['doctor'])
    expect(doctor.code).toBe(3)
    expect(doctor.stdout).toContain('run: innkeeper connect smily')
    const checks = JSON.parse((await home.run(['doctor', '--json'])).stdout)
    expect(checks).toContainEqual(expect.objectContaining({ check: 'connection smily/main', status: 'fail' }))
  })
})
