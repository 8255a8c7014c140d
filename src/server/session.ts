// The operator's session: a cookie signed with the server's secret (HMAC via @fastify/cookie)
// holding who logged in and until when. HttpOnly, SameSite=Lax, Secure unless on loopback.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

export const SESSION_COOKIE = 'innkeeper_session'
export const SESSION_TTL_MS = 12 * 60 * 60_000

export interface OperatorSession {
  /** `password` or `key:<id>`. */
  subject: string
  expiresAt: number
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || hostname.startsWith('127.')
}

export function setSession(reply: FastifyReply, session: OperatorSession, secure: boolean): void {
  const value = Buffer.from(JSON.stringify(session)).toString('base64url')
  reply.setCookie(SESSION_COOKIE, value, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  })
}

export function clearSession(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure })
}

export function readSession(request: FastifyRequest, now: number): OperatorSession | null {
  const cookie = request.cookies[SESSION_COOKIE]
  if (!cookie) return null
  const unsigned = request.unsignCookie(cookie)
  if (!unsigned.valid || !unsigned.value) return null
  try {
    const session = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as OperatorSession
    if (typeof session.subject !== 'string' || typeof session.expiresAt !== 'number') return null
    return session.expiresAt > now ? session : null
  } catch {
    return null
  }
}

/** Constant-time password check (both sides hashed first so lengths match). */
export function passwordMatches(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false
  const a = createHash('sha256').update(expected).digest()
  const b = createHash('sha256').update(given).digest()
  return timingSafeEqual(a, b)
}
