// Bearer-token checks for the emulated APIs (RFC 6750): reads the Authorization header and asks
// the token authority; each platform words its own 401 and 403 answers.
import type { FastifyRequest } from 'fastify'
import type { EmulatorCore } from './core.js'
import type { AccessTokenCheck } from './oauth-server.js'

export type BearerCheck = AccessTokenCheck | { ok: false; reason: 'missing' }

export function checkBearer(core: EmulatorCore, request: FastifyRequest): BearerCheck {
  const header = request.headers.authorization
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  if (!match?.[1]) return { ok: false, reason: 'missing' }
  return core.authority.checkAccessToken(match[1])
}

export const BEARER_FAILURE_DESCRIPTION: Record<'missing' | 'unknown' | 'expired' | 'revoked', string> = {
  missing: 'No access token was sent',
  unknown: 'The access token is invalid',
  expired: 'The access token expired',
  revoked: 'The access token was revoked',
}

/** A `WWW-Authenticate: Bearer …` value; Booking Experts separates parameters with a space only. */
export function bearerChallenge(params: Array<[string, string]>, separator = ', '): string {
  return `Bearer ${params.map(([key, value]) => `${key}="${value.replace(/"/g, "'")}"`).join(separator)}`
}
