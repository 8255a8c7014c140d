// Refusals become typed errors: RFC 6749 token errors, RFC 6750 challenges, and the platforms' own bodies.
import { describe, expect, it } from 'vitest'
import {
  apiError,
  parseBearerChallenge,
  parseRetryAfter,
  tokenEndpointError,
} from '../../src/oauth/errors.js'

const context = {
  provider: 'BookingSync',
  grant: 'refresh_token',
  secrets: ['the-refresh-token', 'the-client-secret'],
}

describe('token endpoint errors', () => {
  it('maps invalid_grant to its own code with advice to authorize again', () => {
    const error = tokenEndpointError(
      400,
      { error: 'invalid_grant', error_description: 'The provided authorization grant is invalid' },
      '',
      context,
    )
    expect(error.code).toBe('invalid_grant')
    expect(error.status).toBe(400)
    expect(error.message).toMatch(/authorize again/)
  })

  it('maps invalid_client, and 5xx and 429 to retryable codes', () => {
    expect(tokenEndpointError(401, { error: 'invalid_client' }, '', context).code).toBe('invalid_client')
    expect(tokenEndpointError(503, undefined, '<html>down</html>', context).code).toBe('provider_unavailable')
    const limited = tokenEndpointError(429, undefined, '', { ...context, retryAfterSeconds: 7 })
    expect(limited.code).toBe('rate_limited')
    expect(limited.details.retryAfterSeconds).toBe(7)
  })

  it('scrubs secrets a provider echoes back in its description', () => {
    const error = tokenEndpointError(
      400,
      { error: 'invalid_grant', error_description: 'token the-refresh-token was revoked' },
      '',
      context,
    )
    expect(error.message).not.toContain('the-refresh-token')
    expect(JSON.stringify(error)).not.toContain('the-refresh-token')
  })

  it('handles a non-JSON error page without crashing', () => {
    const error = tokenEndpointError(400, undefined, `<html>${'x'.repeat(100_000)}</html>`, context)
    expect(error.code).toBe('invalid_request')
    expect(error.message.length).toBeLessThan(400)
  })
})

describe('API errors', () => {
  const apiContext = {
    provider: 'Booking Experts',
    method: 'GET',
    path: '/v3/administrations',
    secrets: [],
    now: 0,
  }

  it("reads Booking Experts' WWW-Authenticate challenge for an expired token", () => {
    const headers = new Headers({
      'www-authenticate': 'Bearer error="invalid_token" error_description="The access token expired"',
    })
    const error = apiError(
      { status: 401, headers },
      { error: 'invalid_token', error_description: 'The access token expired' },
      '',
      apiContext,
    )
    expect(error.code).toBe('invalid_token')
    expect(error.message).toContain('The access token expired')
  })

  it('names the missing scope of a 403 insufficient_scope', () => {
    const headers = new Headers({
      'www-authenticate': 'Bearer error="insufficient_scope", scope="rentals_write"',
    })
    const error = apiError({ status: 403, headers }, undefined, '', apiContext)
    expect(error.code).toBe('insufficient_scope')
    expect(error.details.scope).toBe('rentals_write')
    expect(error.message).toContain('rentals_write')
  })

  it("reads BookyFlow's own 401 and 403 bodies", () => {
    const headers = new Headers()
    const unauthorized = apiError(
      { status: 401, headers },
      { error: 'unauthorized', error_description: 'Invalid or expired token' },
      '',
      apiContext,
    )
    expect(unauthorized.code).toBe('invalid_token')
    const forbidden = apiError(
      { status: 403, headers },
      { error: 'forbidden', error_description: 'Insufficient scope' },
      '',
      apiContext,
    )
    expect(forbidden.code).toBe('insufficient_scope')
  })

  it('parses challenges with quoted commas and escapes', () => {
    expect(
      parseBearerChallenge('Bearer realm="a, b", error="invalid_token", error_description="say \\"hi\\""'),
    ).toEqual({
      realm: 'a, b',
      error: 'invalid_token',
      error_description: 'say "hi"',
    })
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined()
  })

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('12', 0)).toBe(12)
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60)
    expect(parseRetryAfter('soon', 0)).toBeUndefined()
  })
})
