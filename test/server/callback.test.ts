// `GET /callback` against the Booking Experts emulator: the redirect completes the connection
// and shows the subscription's return URL; a forged or reused state, a missing code and every
// RFC 6749 error answer show a clear 400 page and store nothing. Logs never carry code or state.
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'
import { type ServerFixture, startServer } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

async function startBookingExperts(): Promise<ServerFixture> {
  const fixture = await startServer('bookingexperts')
  await fixture.keeper.apps.add(
    'acme-be',
    appFor(fixture.emulator, 'bookingexperts', { redirectUri: `${fixture.baseUrl}/callback` }),
  )
  return fixture
}

async function consent(decision: 'approve' | 'deny' = 'approve') {
  const start = await f.keeper.authorize('acme-be')
  const outcome = await answerConsent(start.url, decision)
  expect(outcome.location?.startsWith(`${f.baseUrl}/callback?`)).toBe(true)
  return { ...outcome, location: outcome.location!, expectedState: start.state }
}

async function expectNothingStored(): Promise<void> {
  expect(await f.keeper.connections()).toEqual([])
  expect(f.emulator.stats().tokenRequests.total ?? 0).toBe(0)
}

async function page(url: string): Promise<{ status: number; text: string }> {
  const answer = await fetch(url, { redirect: 'manual' })
  return { status: answer.status, text: await answer.text() }
}

describe('the OAuth callback', () => {
  it('connects Booking Experts, keeps the subscription and shows a button back to the app page', async () => {
    f = await startBookingExperts()
    const { location } = await consent()
    const answer = await page(location)
    expect(answer.status).toBe(200)
    expect(answer.text).toContain('id="connection-id">acme-be/main<')
    const [connection] = await f.keeper.connections()
    expect(connection?.metadata.subscriptionId).toBeTruthy()
    const returnUrl = String(connection?.metadata.returnUrl)
    expect(returnUrl).toMatch(/^https?:\/\//)
    expect(answer.text).toContain(`id="return-link" href="${returnUrl.replaceAll('&', '&amp;')}"`)
  })

  it('refuses a forged state with a clear page and stores nothing', async () => {
    f = await startBookingExperts()
    const { location, expectedState } = await consent()
    const forged = location.replace(`state=${expectedState}`, 'state=forged-by-someone')
    const answer = await page(forged)
    expect(answer.status).toBe(400)
    expect(answer.text).toContain('This authorization link is not valid any more')
    expect(answer.text).toContain('Nothing was stored')
    await expectNothingStored()
  })

  it('refuses a state used a second time', async () => {
    f = await startBookingExperts()
    const { location } = await consent()
    expect((await page(location)).status).toBe(200)
    const before = await f.keeper.connection('acme-be/main').info()
    const again = await page(location)
    expect(again.status).toBe(400)
    expect(again.text).toContain('id="error-code">invalid_state<')
    expect(f.emulator.stats().tokenRequests.authorization_code).toBe(1)
    expect((await f.keeper.connection('acme-be/main').info()).updatedAt).toBe(before.updatedAt)
  })

  it('refuses a callback without a code', async () => {
    f = await startBookingExperts()
    const { expectedState } = await consent()
    const answer = await page(`${f.baseUrl}/callback?state=${encodeURIComponent(expectedState)}`)
    expect(answer.status).toBe(400)
    expect(answer.text).toContain('has no code')
    await expectNothingStored()
  })

  it('explains error=access_denied when the owner clicked Deny', async () => {
    f = await startBookingExperts()
    const { location, error } = await consent('deny')
    expect(error).toBe('access_denied')
    const answer = await page(location)
    expect(answer.status).toBe(400)
    expect(answer.text).toContain('Access was not granted')
    expect(answer.text).toContain('did not grant access')
    await expectNothingStored()
  })

  it.each([
    'invalid_scope',
    'server_error',
    'temporarily_unavailable',
    'unauthorized_client',
    'something_new',
  ])('explains error=%s with a 400 page', async (code) => {
    f = await startBookingExperts()
    const { expectedState } = await consent()
    const answer = await page(
      `${f.baseUrl}/callback?error=${code}&state=${encodeURIComponent(expectedState)}`,
    )
    expect(answer.status).toBe(400)
    expect(answer.text).toContain('Nothing was stored')
    await expectNothingStored()
  })

  it('refuses repeated parameters', async () => {
    f = await startBookingExperts()
    const answer = await page(`${f.baseUrl}/callback?code=a&code=b&state=c`)
    expect(answer.status).toBe(400)
    await expectNothingStored()
  })

  it('never writes the code or the state to the log', async () => {
    f = await startBookingExperts()
    const { location, code, expectedState } = await consent()
    await page(location)
    await page(location)
    const log = f.logs.join('')
    expect(log).toContain('/callback?code=[redacted]')
    expect(log).not.toContain(code!)
    expect(log).not.toContain(expectedState)
    const lines = f.logs
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(
      lines.filter((line) => line.msg === 'request' && line.req?.url?.startsWith('/callback')),
    ).toHaveLength(2)
  })
})

describe('installs started in the Booking Experts App Store', () => {
  it('connects from a callback with a code and nothing else on the per-app callback URL', async () => {
    f = await startServer('bookingexperts')
    const redirectUri = `${f.baseUrl}/callback/acme-be`
    await f.keeper.apps.add('acme-be', appFor(f.emulator, 'bookingexperts', { redirectUri }))
    // The App Store's install dialog: approved on the platform, no state from us.
    const { location } = f.emulator.approve({ redirectUri })
    expect(new URL(location).searchParams.has('state')).toBe(false)
    const answer = await page(location)
    expect(answer.status).toBe(200)
    const [connection] = await f.keeper.connections()
    expect(connection?.id).toBe(`acme-be/install-${connection?.metadata.subscriptionId}`)
    expect(answer.text).toContain('id="return-link"')
  })

  it('keeps an install whose subscription cannot be read under a name of its own, never main', async () => {
    f = await startServer('bookingexperts')
    const redirectUri = `${f.baseUrl}/callback/acme-be`
    await f.keeper.apps.add('acme-be', appFor(f.emulator, 'bookingexperts', { redirectUri }))
    const first = await page(f.emulator.approve({ redirectUri }).location)
    expect(first.status).toBe(200)
    const [existing] = await f.keeper.connections()
    f.emulator.configure({ failNextApiRequests: 1 })
    const answer = await page(f.emulator.approve({ redirectUri, organizationId: '1' }).location)
    expect(answer.status).toBe(200)
    expect(answer.text).toContain('id="pending-steps"')
    const connections = await f.keeper.connections()
    expect(connections).toHaveLength(2)
    const kept = connections.find((connection) => connection.id === existing!.id)
    expect(kept?.metadata.subscriptionId).toBe(existing!.metadata.subscriptionId)
    expect(connections.find((connection) => connection.id !== existing!.id)?.name).toMatch(
      /^install-pending-/,
    )
  })

  it('still refuses a stateless callback on the shared callback URL', async () => {
    f = await startBookingExperts()
    const { location } = f.emulator.approve({ redirectUri: `${f.baseUrl}/callback` })
    const answer = await page(location)
    expect(answer.status).toBe(400)
    await expectNothingStored()
  })
})
