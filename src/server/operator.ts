// The guard in front of the operator pages: a valid session cookie, or none needed in the
// loopback demo. Unauthenticated visits to a page go to the login form, keeping where they were.
import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from './context.js'
import { type OperatorSession, passwordBinding, readSession } from './session.js'

/** The session each request was let in with (for the audit trail's actor). */
const sessions = new WeakMap<FastifyRequest, OperatorSession>()

export function sessionOf(request: FastifyRequest): OperatorSession | undefined {
  return sessions.get(request)
}

export async function isOperator(ctx: ServerContext, request: FastifyRequest): Promise<boolean> {
  if (ctx.dashboardAuth === 'none') return true
  const session = await readSession(ctx.keeper.store, request, Date.now())
  if (!session || !(await sessionStillValid(ctx, session))) return false
  sessions.set(request, session)
  return true
}

async function sessionStillValid(ctx: ServerContext, session: OperatorSession): Promise<boolean> {
  // A session opened with an API key ends when that key is revoked.
  if (session.subject.startsWith('key:')) return ctx.verifier.isActive(session.subject.slice(4))
  // A password session ends when the password changes.
  if (session.subject !== 'password' || ctx.adminPassword === undefined || !session.binding) return false
  const expected = Buffer.from(passwordBinding(ctx.sessionSecret, ctx.adminPassword))
  const given = Buffer.from(session.binding)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/** A preHandler: lets operators through, sends others to `/login`. */
export function requireOperator(ctx: ServerContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (await isOperator(ctx, request)) return
    if (request.method === 'GET') {
      const next = request.url.startsWith('/') && !request.url.startsWith('//') ? request.url : '/'
      return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303)
    }
    return reply.redirect('/login', 303)
  }
}

/** Characters a browser drops or reads as a slash inside a URL: controls (tab, CR, LF …) and backslashes. */
function hasUnsafeCharacter(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i)
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true
  }
  return false
}

/**
 * Where to go after logging in: only a path on this server. Checked as given and after
 * percent-decoding (repeatedly), so `/%09/evil.example`, `/%2F/evil.example` and
 * `/%5Cevil.example` cannot become `//evil.example` in a browser; anything else is `/`.
 */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) return '/'
  const forms = [value]
  let decoded = value
  for (let round = 0; ; round++) {
    let next: string
    try {
      next = decodeURIComponent(decoded)
    } catch {
      return '/'
    }
    if (next === decoded) break
    if (round === 4) return '/' // encoded five times over: no dashboard link looks like that
    forms.push(next)
    decoded = next
  }
  for (const form of forms) {
    if (!form.startsWith('/') || form.startsWith('//') || hasUnsafeCharacter(form)) return '/'
    const base = new URL('http://innkeeper.invalid/')
    if (new URL(form, base).origin !== base.origin) return '/'
  }
  return value
}
