// bookingtime through the library: client credentials → refresh token → organization access
// token, renewal of 5-minute tokens with organization_id, the 30-day refresh token renewed from
// client credentials, and the Module API's empty secret.
import { afterEach, describe, expect, it } from 'vitest'
import { appFor, type Fixture, setup } from '../support/keeper.js'

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
})
