// `GET/POST /login` and `POST /logout`: the operator session. The form is CSRF-protected and
// rate limited per client address; a wrong answer says only that it was wrong.
import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.js'
import { safeNextPath } from '../operator.js'
import { sendPage } from '../pages/layout.js'
import { loginPage } from '../pages/login.js'
import { endSession, openSession, passwordBinding, passwordMatches, SESSION_TTL_MS } from '../session.js'

export function registerLoginRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const loginLimit = { rateLimit: { max: ctx.limits.loginPerMinute, timeWindow: 60_000 } }

  app.get('/login', { config: loginLimit }, async (request, reply) => {
    const next = safeNextPath((request.query as Record<string, unknown>).next)
    if (ctx.dashboardAuth === 'none') return reply.redirect(next, 303)
    return sendPage(
      reply,
      loginPage({ csrf: reply.generateCsrf(), next, passwordConfigured: Boolean(ctx.adminPassword) }),
    )
  })

  app.post('/login', { config: loginLimit, preHandler: app.csrfProtection }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const given = typeof body.password === 'string' ? body.password.trim() : ''
    const next = safeNextPath(body.next)
    let subject: string | undefined
    let binding: string | undefined
    if (ctx.adminPassword && passwordMatches(ctx.adminPassword, given)) {
      subject = 'password'
      binding = passwordBinding(ctx.sessionSecret, ctx.adminPassword)
    } else {
      const key = await ctx.verifier.verify(given)
      if (key) subject = `key:${key.id}`
    }
    if (!subject) {
      request.log.warn('operator login refused')
      return sendPage(
        reply.code(401),
        loginPage({
          csrf: reply.generateCsrf(),
          next,
          error: 'That password or API key is not right.',
          passwordConfigured: Boolean(ctx.adminPassword),
        }),
      )
    }
    const now = Date.now()
    await openSession(
      ctx.keeper.store,
      reply,
      { subject, expiresAt: now + SESSION_TTL_MS, ...(binding ? { binding } : {}) },
      ctx.secureCookies(request),
      now,
    )
    return reply.redirect(next, 303)
  })

  app.post('/logout', { preHandler: app.csrfProtection }, async (request, reply) => {
    await endSession(ctx.keeper.store, request, reply, ctx.secureCookies(request))
    return reply.redirect('/login', 303)
  })
}
