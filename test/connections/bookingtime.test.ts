// bookingtime through the library: client credentials → refresh token → organization access
// token, renewal of 5-minute tokens with organization_id, the 30-day refresh token renewed from
// client credentials, the Module API's empty secret, and User Authentication (authorization code).
import { afterEach, describe, expect, it } from 'vitest'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

const REDIRECT = 'http://127.0.0.1:8912/callback'

let fixture: Fixture
afterEach(async () => fixture?.close())

describe('bookingtime through the library', () => {
  it('connects in two steps and calls the organization endpoint', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    const result = await fixture.keeper.connect('acme-bt', { organizationId })
    expect(result.kind).toBe('connected')
    const stats = fixture.emulator.stats().tokenRequests
    expect(stats.client_credentials).toBe(1)
    expect(stats.refresh_token).toBe(1)
    const organization = await fixture.keeper
      .connection('acme-bt/main')
      .json<{ id: string; class: string }>('/de/organization/{organizationId}/show', {
        params: { organizationId: organizationId! },
      })
    expect(organization).toMatchObject({ class: 'ORGANIZATION', id: organizationId })
  })

  it('adds a customer with a JSON body, as the seed\'s "Add your first customer" does', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    await fixture.keeper.connect('acme-bt', { organizationId })
    const customer = await fixture.keeper
      .connection('acme-bt/main')
      .json<Record<string, unknown>>('/de/organization/{organizationId}/customer/add', {
        method: 'POST',
        json: { firstName: 'John', lastName: 'Doe' },
        params: { organizationId: organizationId! },
      })
    expect(customer).toMatchObject({
      class: 'CUSTOMER_SHORT',
      firstName: 'John',
      lastName: 'Doe',
      organizationId,
    })
  })

  it('exchanges the refresh token with client_id, refresh_token and organization_id and nothing else', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    await fixture.keeper.connect('acme-bt', { organizationId })
    fixture.advance(300)
    await fixture.keeper.connection('acme-bt/main').accessToken()
    const fields = fixture.emulator.stats().lastTokenRequestFields
    expect(fields.refresh_token).toEqual(['client_id', 'grant_type', 'organization_id', 'refresh_token'])
    expect(fields.client_credentials).toEqual(['client_id', 'client_secret', 'grant_type'])
    expect(fixture.emulator.stats().tokenErrors).toEqual({})
  })

  it('asks for the organization when it is missing', async () => {
    fixture = await setup('bookingtime')
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    await expect(fixture.keeper.connect('acme-bt')).rejects.toThrow(/needs organizationId .*--organization/)
  })

  it('renews the 5-minute access token from the refresh token with organization_id', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    await fixture.keeper.connect('acme-bt', { organizationId })
    const conn = fixture.keeper.connection('acme-bt/main')
    const first = await conn.accessToken()
    fixture.advance(300)
    const second = await conn.accessToken()
    expect(second).not.toBe(first)
    expect(fixture.emulator.stats().tokenRequests).toMatchObject({ client_credentials: 1, refresh_token: 2 })
  })

  it('keeps working past the refresh token’s 30 days by renewing it from client credentials', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    await fixture.keeper.connect('acme-bt', { organizationId })
    const conn = fixture.keeper.connection('acme-bt/main')
    for (let day = 0; day < 40; day++) {
      fixture.advance(86_400)
      await conn.json('/de/organization/{organizationId}/show', {
        params: { organizationId: organizationId! },
      })
    }
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBeGreaterThanOrEqual(2)
    expect((await conn.info()).state).toBe('active')
  })

  it('connects a Module API client with an empty secret', async () => {
    fixture = await setup('bookingtime')
    const { organizationId, moduleClientId, tokenUrl, apiUrl } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-module', {
      provider: 'bookingtime',
      clientId: moduleClientId!,
      clientSecret: '',
      tokenUrl,
      apiUrl,
    })
    const result = await fixture.keeper.connect('acme-module', { organizationId })
    expect(result.kind).toBe('connected')
    expect(await fixture.keeper.connection('acme-module').accessToken()).toMatch(/^ey/)
  })

  it('sends a Module API app (no secret) to the Module API base URL, the App API app to the App API', async () => {
    fixture = await setup('bookingtime')
    const { organizationId, moduleClientId } = fixture.emulator.info
    await fixture.keeper.apps.add(
      'acme-module',
      appFor(fixture.emulator, 'bookingtime', { clientId: moduleClientId!, clientSecret: '' }),
    )
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    await fixture.keeper.connect('acme-module', { organizationId })
    await fixture.keeper.connect('acme-bt', { organizationId })
    for (const app of ['acme-module', 'acme-bt']) {
      const organization = await fixture.keeper
        .connection(`${app}/main`)
        .json<{ id: string }>('/de/organization/{organizationId}/show', {
          params: { organizationId: organizationId! },
        })
      expect(organization.id).toBe(organizationId)
    }
    expect(fixture.emulator.stats().apiRequests.forbidden).toBe(0)
  })

  it('connects with User Authentication: the code answers a refresh token, exchanged with organization_id for an access token', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add(
      'acme-bt',
      appFor(fixture.emulator, 'bookingtime', { redirectUri: REDIRECT }),
    )
    const start = await fixture.keeper.connect('acme-bt', { grant: 'authorization_code', organizationId })
    if (start.kind !== 'authorize') throw new Error('expected an authorization step')
    expect(start.warnings.join(' ')).not.toContain('may not be allowed')
    const consent = await answerConsent(start.url)
    const connection = await start.complete(consent.location!)
    expect(connection.metadata).toMatchObject({ grant: 'authorization_code', organizationId })
    expect(fixture.emulator.stats().tokenRequests).toMatchObject({ authorization_code: 1, refresh_token: 1 })
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBeUndefined()
    expect(fixture.emulator.stats().lastTokenRequestFields.refresh_token).toEqual([
      'client_id',
      'grant_type',
      'organization_id',
      'refresh_token',
    ])
    const organization = await fixture.keeper
      .connection('acme-bt/main')
      .json<{ id: string }>('/de/organization/{organizationId}/show', {
        params: { organizationId: organizationId! },
      })
    expect(organization.id).toBe(organizationId)
  })

  it('keeps the person’s grant when the exchange right after the code fails, and exchanges it on next use', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add(
      'acme-bt',
      appFor(fixture.emulator, 'bookingtime', { redirectUri: REDIRECT }),
    )
    const start = await fixture.keeper.connect('acme-bt', { grant: 'authorization_code', organizationId })
    if (start.kind !== 'authorize') throw new Error('expected an authorization step')
    const consent = await answerConsent(start.url)
    fixture.emulator.configure({ failNextTokenRequests: { count: 1, grantType: 'refresh_token' } })
    await expect(start.complete(consent.location!)).rejects.toThrow(/kept its grant/)
    const conn = fixture.keeper.connection('acme-bt/main')
    expect(await conn.info()).toMatchObject({ state: 'error', hasRefreshToken: true })
    expect(await conn.accessToken()).toMatch(/^ey/)
    expect((await conn.info()).state).toBe('active')
    // One consent, one code: the grant was exchanged again, not asked for again.
    expect(fixture.emulator.stats().tokenRequests).toMatchObject({ authorization_code: 1, refresh_token: 2 })
  })

  it('asks for the organization before the browser step of User Authentication, not after the code is spent', async () => {
    fixture = await setup('bookingtime')
    await fixture.keeper.apps.add(
      'acme-bt',
      appFor(fixture.emulator, 'bookingtime', { redirectUri: REDIRECT }),
    )
    await expect(fixture.keeper.connect('acme-bt', { grant: 'authorization_code' })).rejects.toThrow(
      /needs organizationId .*--organization/,
    )
    expect(await fixture.keeper.store.latestPendingAuthorization('acme-bt', fixture.now())).toBeNull()
  })

  it('renews a user-authorized connection every 5 minutes, and after the 30-day refresh token asks a person again', async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add(
      'acme-bt',
      appFor(fixture.emulator, 'bookingtime', { redirectUri: REDIRECT }),
    )
    const start = await fixture.keeper.connect('acme-bt', { grant: 'authorization_code', organizationId })
    if (start.kind !== 'authorize') throw new Error('expected an authorization step')
    await start.complete((await answerConsent(start.url)).location!)
    const conn = fixture.keeper.connection('acme-bt/main')
    const first = await conn.accessToken()
    fixture.advance(300)
    expect(await conn.accessToken()).not.toBe(first)
    fixture.advance(30 * 86_400)
    // A person's grant is not silently swapped for the app's own credentials.
    await expect(conn.accessToken()).rejects.toMatchObject({ code: 'needs_reauth' })
    await expect(conn.accessToken()).rejects.toThrow(/--grant authorization_code --organization/)
    expect(fixture.emulator.stats().tokenRequests.client_credentials).toBeUndefined()
  })

  it("says once, on connecting with client credentials, the seed's warning that they may not be allowed", async () => {
    fixture = await setup('bookingtime')
    const { organizationId } = fixture.emulator.info
    await fixture.keeper.apps.add('acme-bt', appFor(fixture.emulator, 'bookingtime'))
    const result = await fixture.keeper.connect('acme-bt', { organizationId })
    if (result.kind !== 'connected') throw new Error('expected a connection')
    const said = result.warnings.filter((warning) => warning.includes('may not be allowed for your use case'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('--grant authorization_code')
  })
})
