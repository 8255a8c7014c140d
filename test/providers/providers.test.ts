// Provider definitions are data: names and aliases resolve, required settings are enforced,
// and authorization URLs come out exactly as the platforms document them.
import { describe, expect, it } from 'vitest'
import { buildAuthorizationUrl } from '../../src/oauth/authorize.js'
import { resolveAppEndpoints } from '../../src/providers/endpoints.js'
import { getProvider, listProviders } from '../../src/providers/registry.js'

describe('the provider catalogue', () => {
  it('knows every seeded platform, with smily as a name for bookingsync', () => {
    expect(listProviders()).toEqual(
      expect.arrayContaining([
        'bookingsync',
        'smily',
        'bookingexperts',
        'bookingtime',
        'bookyflow',
        'oauth2',
      ]),
    )
    expect(getProvider('smily').name).toBe('bookingsync')
  })

  it('rejects an unknown provider with the list of allowed names', () => {
    expect(() => getProvider('airbnb')).toThrow(/Unknown provider "airbnb". Use one of: .*bookingsync.*smily/)
  })

  it('requires a base URL for BookyFlow and derives every URL from it', () => {
    const bookyflow = getProvider('bookyflow')
    expect(() => resolveAppEndpoints(bookyflow, {})).toThrow(/needs baseUrl/)
    const endpoints = resolveAppEndpoints(bookyflow, { baseUrl: 'https://pms.example.com/' })
    expect(endpoints.tokenUrl).toBe('https://pms.example.com/bookyflow/api/oauth/token')
    expect(endpoints.apiUrl).toBe('https://pms.example.com/bookyflow/api')
  })

  it('refuses plain HTTP except on loopback', () => {
    const generic = getProvider('oauth2')
    expect(() =>
      resolveAppEndpoints(generic, {
        tokenUrl: 'http://auth.example.com/token',
        apiUrl: 'https://api.example.com',
      }),
    ).toThrow(/not HTTPS/)
    expect(
      resolveAppEndpoints(generic, {
        tokenUrl: 'http://127.0.0.1:9999/token',
        apiUrl: 'http://localhost:9999/api',
      }).tokenUrl,
    ).toBe('http://127.0.0.1:9999/token')
  })

  it("serves bookingtime's Module API (no client secret) from its own base URL, overridable per app", () => {
    const bookingtime = getProvider('bookingtime')
    expect(resolveAppEndpoints(bookingtime, {}).apiUrl).toBe('https://api.bookingtime.com/app/v3')
    expect(resolveAppEndpoints(bookingtime, {}, { withoutSecret: true }).apiUrl).toBe(
      'https://api.bookingtime.com/module/v3',
    )
    const custom = { moduleApiUrl: 'https://modules.example.com/v3' }
    expect(resolveAppEndpoints(bookingtime, custom, { withoutSecret: true }).apiUrl).toBe(
      'https://modules.example.com/v3',
    )
    expect(resolveAppEndpoints(bookingtime, custom).apiUrl).toBe('https://api.bookingtime.com/app/v3')
  })

  it("lists Booking Experts' app host beside its API host as places a token may go", () => {
    const endpoints = resolveAppEndpoints(getProvider('bookingexperts'), {})
    expect(endpoints.apiOrigins).toEqual(['https://api.bookingexperts.nl', 'https://app.bookingexperts.nl'])
  })
})

describe('authorization URLs', () => {
  it("matches BookingSync's console schema, scopes separated by %20", () => {
    const url = buildAuthorizationUrl({
      provider: getProvider('bookingsync'),
      authorizeUrl: 'https://www.bookingsync.com/oauth/authorize',
      clientId: 'CLIENT_ID',
      redirectUri: 'urn:ietf:wg:oauth:2.0:oob',
      scopes: ['bookings_read', 'rentals_read'],
      state: 'xyz',
    })
    expect(url).toBe(
      'https://www.bookingsync.com/oauth/authorize?client_id=CLIENT_ID&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&response_type=code&scope=bookings_read%20rentals_read&state=xyz',
    )
  })

  it('adds a PKCE challenge where the provider supports it', () => {
    const url = new URL(
      buildAuthorizationUrl({
        provider: getProvider('oauth2'),
        authorizeUrl: 'https://auth.example.com/authorize?tenant=1',
        clientId: 'c',
        redirectUri: 'https://app.example.com/cb',
        scopes: [],
        state: 's',
        codeChallenge: 'abc',
      }),
    )
    expect(url.searchParams.get('tenant')).toBe('1')
    expect(url.searchParams.get('code_challenge')).toBe('abc')
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.has('scope')).toBe(false)
  })
})
