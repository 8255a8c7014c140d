// The operator's session, kept server-side: the cookie (signed with the server's secret via
// @fastify/cookie; HttpOnly, SameSite=Lax, Secure unless on loopback) holds only a random id,
// and the store's `operator_sessions` documents say who logged in, until when, and with which
// credential. Logout deletes the document, so a copied cookie dies with it; a session opened
// with the password is bound to that password (an HMAC under the session secret), so changing
// INNKEEPER_ADMIN_PASSWORD ends it; one opened with an API key ends when the key is revoked.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Store } from '../stores/store.js'

export const SESSION_COOKIE = 'innkeeper_session'
export const SESSION_TTL_MS = 12 * 60 * 60_000
export const SESSIONS_COLLECTION = 'operator_sessions'

export interface OperatorSession {
  id: string
  /** `password` or `key:<id>`. */
  subject: string
  expiresAt: number
  /** For `password` sessions: which password opened it (see `passwordBinding`). */
  binding?: string
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || hostname.startsWith('127.')
}

/** Ties a session to the password that opened it without storing anything a guess could be checked against offline. */
export function passwordBinding(sessionSecret: string, password: string): string {
  return createHmac('sha256', sessionSecret)
    .update(`innkeeper-operator-password\0${password}`)
    .digest('base64url')
}

/** Records a new session in the store and hands its id to the browser. */
export async function openSession(
  store: Store,
  reply: FastifyReply,
  session: Omit<OperatorSession, 'id'>,
  secure: boolean,
  now: number,
): Promise<OperatorSession> {
  await pruneExpiredSessions(store, now)
  const id = randomBytes(24).toString('base64url')
  await store.putDocument(SESSIONS_COLLECTION, id, { ...session, createdAt: now })
  reply.setCookie(SESSION_COOKIE, id, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  })
  return { id, ...session }
}

/** The session this request's cookie names, if the store still holds it and it has not expired. */
export async function readSession(
  store: Store,
  request: FastifyRequest,
  now: number,
): Promise<OperatorSession | null> {
  const id = sessionIdOf(request)
  if (!id) return null
  const value = await store.getDocument(SESSIONS_COLLECTION, id)
  if (!value || typeof value.subject !== 'string' || typeof value.expiresAt !== 'number') return null
  if (value.expiresAt <= now) {
    await store.deleteDocument(SESSIONS_COLLECTION, id)
    return null
  }
  return {
    id,
    subject: value.subject,
    expiresAt: value.expiresAt,
    binding: typeof value.binding === 'string' ? value.binding : undefined,
  }
}

/** Logout: the session ends in the store (every copy of the cookie with it) and in this browser. */
export async function endSession(
  store: Store,
  request: FastifyRequest,
  reply: FastifyReply,
  secure: boolean,
): Promise<void> {
  const id = sessionIdOf(request)
  if (id) await store.deleteDocument(SESSIONS_COLLECTION, id)
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure })
}

function sessionIdOf(request: FastifyRequest): string | undefined {
  const cookie = request.cookies[SESSION_COOKIE]
  if (!cookie) return undefined
  const unsigned = request.unsignCookie(cookie)
  if (!unsigned.valid || !unsigned.value || !/^[A-Za-z0-9_-]{32}$/.test(unsigned.value)) return undefined
  return unsigned.value
}

/** Sessions past their expiry are deleted when someone logs in, so the collection stays small. */
async function pruneExpiredSessions(store: Store, now: number): Promise<void> {
  for (const { id, value } of await store.listDocuments(SESSIONS_COLLECTION)) {
    if (typeof value.expiresAt !== 'number' || value.expiresAt <= now)
      await store.deleteDocument(SESSIONS_COLLECTION, id)
  }
}

/** Constant-time password check (both sides hashed first so lengths match). */
export function passwordMatches(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false
  const a = createHash('sha256').update(expected).digest()
  const b = createHash('sha256').update(given).digest()
  return timingSafeEqual(a, b)
}
