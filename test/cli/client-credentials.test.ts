// bookingtime and BookyFlow from a terminal: client credentials connect at once, with the
// provider's connect options as flags (`--organization`, `--channel`), and `token` after expiry;
// bookingtime's user authentication with `--grant authorization_code`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'

let bookingtime: EmulatorHandle
let bookyflow: EmulatorHandle
let home: Home

beforeAll(async () => {
  // One-second access tokens: the CLI runs on the real clock, so `token` finds them expired.
  bookingtime = await startEmulator('bookingtime', { config: { accessTokenTtl: 1 } })
  bookyflow = await startEmulator('bookyflow')
  home = makeHome()
  await addApp(home, 'bt', 'bookingtime', bookingtime)
  await addApp(home, 'bf', 'bookyflow', bookyflow, ['--scope', 'read write'])
})
afterAll(async () => {
  await Promise.all([bookingtime.close(), bookyflow.close()])
  home.close()
})

describe('client-credentials platforms from the CLI', () => {
  it('asks for --organization when connecting bookingtime without it', async () => {
    const result = await home.run(['connect', 'bt'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--organization')
  })

  it('connects bookingtime in two steps with --organization', async () => {
    const organization = bookingtime.info.organizationId!
    const result = await home.run(['connect', 'bt', '--organization', organization])
    // The documented warning, said once on connecting (not on later refreshes), on stderr.
    expect(result.stderr.match(/may not be allowed for your use case/g)).toHaveLength(1)
    expect(result.stderr).toContain('--grant authorization_code')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Connected bt/main')
    expect(result.stdout).toContain(`organizationId: ${organization}`)
    expect(bookingtime.stats().tokenRequests).toMatchObject({ client_credentials: 1, refresh_token: 1 })
    const shown = await home.run([
      'request',
      'bt/main',
      'GET',
      '/de/organization/{organizationId}/show',
      '--param',
      `organizationId=${organization}`,
    ])
    expect(JSON.parse(shown.stdout)).toMatchObject({ class: 'ORGANIZATION', id: organization })
  })

  it('gives a fresh token with `token` once the old one expired', async () => {
    const first = (await home.run(['token', 'bt/main'])).stdout
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const before = bookingtime.stats().tokenRequests.refresh_token ?? 0
    const second = await home.run(['token', 'bt/main'])
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/^\S+\n$/)
    expect(second.stdout).not.toBe(first)
    expect(second.stderr).toBe('')
    expect(bookingtime.stats().tokenRequests.refresh_token).toBeGreaterThan(before)
  })

  it('connects bookingtime with --grant authorization_code: a person approves, the code answers a refresh token, exchanged with the organization', async () => {
    const organization = bookingtime.info.organizationId!
    const before = bookingtime.stats().tokenRequests
    const connect = home.start([
      'connect',
      'bt',
      '--name',
      'user',
      '--grant',
      'authorization_code',
      '--organization',
      organization,
      '--listen',
    ])
    const url = await connect.firstLine
    expect(url.startsWith(bookingtime.info.authorizeUrl!)).toBe(true)
    const consent = await answerConsent(url)
    expect((await fetch(consent.location!)).status).toBe(200)
    const result = await connect.done
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Connected bt/user')
    expect(result.stdout).toContain(`organizationId: ${organization}`)
    expect(result.stderr).not.toContain('may not be allowed')
    const after = bookingtime.stats().tokenRequests
    expect(after.authorization_code).toBe(1)
    expect(after.client_credentials).toBe(before.client_credentials)
    const shown = await home.run(['show', 'bt/user', '--json'])
    expect(JSON.parse(shown.stdout).metadata).toMatchObject({ grant: 'authorization_code' })
  })

  it('asks for --organization before printing an authorization URL', async () => {
    const result = await home.run(['connect', 'bt', '--grant', 'authorization_code', '--listen'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('--organization')
  })

  it('refuses a grant the platform does not offer, naming those it does', async () => {
    const result = await home.run(['connect', 'bf', '--grant', 'authorization_code'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('BookyFlow apps do not connect with authorization_code')
    const unknown = await home.run(['connect', 'bt', '--grant', 'password'])
    expect(unknown.code).toBe(2)
  })

  it('refuses a connect option the provider does not take', async () => {
    const result = await home.run(['connect', 'bt', '--organization', 'x', '--channel', 'c'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--channel is for BookyFlow apps')
  })

  it('connects BookyFlow with --channel and sends the channel header on /cmf calls', async () => {
    const result = await home.run(['connect', 'bf', '--channel', 'my-channel'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('channel: my-channel')
    const created = await home.run([
      'request',
      'bf/main',
      'POST',
      '/cmf/properties',
      '--data',
      '{"name":"Sea view"}',
    ])
    expect(created.code).toBe(0)
    const uid = JSON.parse(created.stdout).data.uid
    const fetched = await home.run([
      'request',
      'bf/main',
      'GET',
      '/cmf/properties/@uid',
      '--param',
      `uid=${uid}`,
    ])
    expect(JSON.parse(fetched.stdout).data.name).toBe('Sea view')
  })

  it('passes query parameters and exits 4 with BookyFlow’s own message on a 422', async () => {
    const created = JSON.parse(
      (await home.run(['request', 'bf/main', 'POST', '/cmf/properties', '--data', '{"name":"Chalet"}']))
        .stdout,
    )
    const result = await home.run([
      'request',
      'bf/main',
      'POST',
      '/cmf/properties/@uid/bookings',
      '--param',
      `uid=${created.data.uid}`,
      '--data',
      '{"arrival":"17-11-2024","departure":"2024-11-20"}',
    ])
    expect(result.code).toBe(4)
    expect(result.stderr).toContain('YYYY-MM-DD')
  })
})

describe('auth-free endpoints from the CLI', () => {
  it('calls BookyFlow /status with --no-auth for an app that has no connection', async () => {
    await addApp(home, 'bf-fresh', 'bookyflow', bookyflow, ['--scope', 'read'])
    const before = bookyflow.stats().tokenRequests.total ?? 0
    const result = await home.run(['request', 'bf-fresh', 'GET', '/status', '--no-auth'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).status).toBe('ok')
    expect(bookyflow.stats().tokenRequests.total ?? 0).toBe(before)
    const withToken = await home.run(['request', 'bf-fresh', 'GET', '/status'])
    expect(withToken.code).toBe(2)
    expect(withToken.stderr).toContain('--no-auth')
  })
})
