// The normaliser turns every platform's token answer into one TokenSet, and anything else into a typed error.
import { describe, expect, it } from 'vitest'
import { TokenEndpointError } from '../../src/errors.js'
import { normaliseTokenResponse } from '../../src/oauth/token-response.js'
import { bookingexperts } from '../../src/providers/bookingexperts.js'
import { bookingsync } from '../../src/providers/bookingsync.js'
import { bookingtime } from '../../src/providers/bookingtime.js'
import { oauth2 } from '../../src/providers/oauth2.js'

const now = 1_700_000_000_000

function jwt(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(payload)}.c2lnbmF0dXJl`
}

function normalise(
  provider: typeof bookingsync,
  text: string,
  grant: 'authorization_code' | 'refresh_token' | 'client_credentials' = 'authorization_code',
  previous?: Parameters<typeof normaliseTokenResponse>[2]['previous'],
) {
  let body: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(text)
    body =
      parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : undefined
  } catch {
    body = undefined
  }
  return normaliseTokenResponse(body, text, { provider, grant, now, previous })
}

describe('token answers from the seeds', () => {
  it("reads BookingSync's sample answer: lower-case bearer, 2-hour lifetime, scope", () => {
    const set = normalise(
      bookingsync,
      '{"access_token":"0123456789abcdef","token_type":"bearer","expires_in":7200,"refresh_token":"fedcba9876543210","scope":"public"}',
    )
    expect(set).toEqual({
      accessToken: '0123456789abcdef',
      tokenType: 'Bearer',
      expiresAt: now + 7_200_000,
      refreshToken: 'fedcba9876543210',
      scope: ['public'],
      obtainedAt: now,
    })
  })

  it("reads Booking Experts' refresh answer that says `expires` instead of `expires_in`", () => {
    const set = normalise(
      bookingexperts,
      '{"access_token":"BWjcyMzY3ZDhiNmJkNTY","refresh_token":"Srq2NjM5NzA2OWJjuE7c","token_type":"Bearer","expires":3600}',
      'refresh_token',
    )
    expect(set.expiresAt).toBe(now + 3_600_000)
    expect(set.refreshToken).toBe('Srq2NjM5NzA2OWJjuE7c')
  })

  it("reads bookingtime's client credentials answer that carries only a 30-day refresh token", () => {
    const set = normalise(
      bookingtime,
      `{"refresh_token":"${jwt({ exp: 1 })}","token_type":"Bearer","expires_in":2592000}`,
      'client_credentials',
    )
    expect(set.accessToken).toBeUndefined()
    expect(set.refreshTokenExpiresAt).toBe(now + 2_592_000_000)
  })

  it("reads bookingtime's organization token whose `expires_in` is a string, keeping the refresh token", () => {
    const previous = {
      refreshToken: 'rt',
      refreshTokenExpiresAt: now + 1000,
      tokenType: 'Bearer',
      obtainedAt: now - 10,
    }
    const set = normalise(
      bookingtime,
      `{"access_token":"${jwt({ exp: 2 })}","token_type":"Bearer","expires_in":"300"}`,
      'refresh_token',
      previous,
    )
    expect(set.expiresAt).toBe(now + 300_000)
    expect(set.refreshToken).toBe('rt')
    expect(set.refreshTokenExpiresAt).toBe(now + 1000)
  })

  it("takes the expiry from the JWT's exp claim when the answer gives no lifetime", () => {
    const exp = Math.floor(now / 1000) + 600
    const set = normalise(oauth2, `{"access_token":"${jwt({ exp })}","token_type":"Bearer"}`)
    expect(set.expiresAt).toBe(exp * 1000)
  })
})

describe('answers that are not tokens', () => {
  const cases: Array<[string, string]> = [
    ['an HTML error page', '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['an empty body', ''],
    ['truncated JSON', '{"access_token":"abc","token_ty'],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"hello"'],
    ['no access token', '{"token_type":"bearer","expires_in":7200}'],
    ['an access token that is a number', '{"access_token":12345,"token_type":"bearer"}'],
    ['expires_in that is not a number', '{"access_token":"abc","token_type":"bearer","expires_in":"soon"}'],
    ['a token type Innkeeper cannot use', '{"access_token":"abc","token_type":"mac"}'],
    ['a huge body', `{"junk":"${'x'.repeat(2_000_000)}"}`],
  ]
  for (const [what, text] of cases) {
    it(`rejects ${what} with a typed invalid_response error`, () => {
      const error = (() => {
        try {
          normalise(bookingsync, text)
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(TokenEndpointError)
      expect((error as TokenEndpointError).code).toBe('invalid_response')
      expect((error as Error).message.length).toBeLessThan(300)
    })
  }

  it('never quotes a byte of a cut-off token answer', () => {
    const text = '{"access_token":"s3cr3t-access-token-value","token_type":"bearer","exp'
    expect(() => normalise(bookingsync, text)).toThrow(/not a JSON object \(\d+ bytes\)/)
    try {
      normalise(bookingsync, text)
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t')
      expect((error as Error).message).not.toContain('access_token')
    }
  })

  it('never quotes a secret-looking token back in its message', () => {
    try {
      normalise(bookingsync, '{"access_token":"s3cr3t-access-token-value","token_type":"mac"}')
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t-access-token-value')
    }
  })
})

describe('scrubTokenLike', () => {
  it('redacts token-shaped runs and keeps ordinary words, paths and times', async () => {
    const { scrubTokenLike } = await import('../../src/redact.js')
    const jwtText = jwt({ sub: 'x', exp: 1_700_000_000 })
    const text = `failed with ${jwtText} and 0123456789abcdefABCDEF0123456789xyz on GET /api/v3/rentals/12 at 2026-11-29T15:00:00Z`
    const scrubbed = scrubTokenLike(text)
    expect(scrubbed).not.toContain(jwtText)
    expect(scrubbed).not.toContain('0123456789abcdefABCDEF')
    expect(scrubbed).toContain('GET /api/v3/rentals/12 at 2026-11-29T15:00:00Z')
  })
})
