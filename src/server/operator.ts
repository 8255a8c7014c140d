// The guard in front of the operator pages: a valid session cookie, or none needed in the
// loopback demo. Unauthenticated visits to a page go to the login form, keeping where they were.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from './context.js'
import { readSession } from './session.js'

export async function isOperator(ctx: ServerContext, request: FastifyRequest): Promise<boolean> {
  if (ctx.dashboardAuth === 'none') return true
  const session = readSession(request, Date.now())
  if (!session) return false
  // A session opened with an API key ends when that key is revoked.
  if (session.subject.startsWith('key:')) return ctx.verifier.isActive(session.subject.slice(4))
  return session.subject === 'password' && ctx.adminPassword !== undefined
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

/** Where to go after logging in: only a path on this server. */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\'))
    return '/'
  return value
}
