// `GET /audit`: the audit trail page for operators (same login as the dashboard), with
// `?connection=` and `?since=` (24h, 7d, 2026-01-01) filters.
import type { FastifyInstance } from 'fastify'
import { parseSince } from '../../audit/retention.js'
import { isInnkeeperError } from '../../errors.js'
import type { ServerContext } from '../context.js'
import { requireOperator } from '../operator.js'
import { auditPage } from '../pages/audit.js'
import { sendPage } from '../pages/layout.js'

const PAGE_LIMIT = 200

export function registerAuditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/audit', { preHandler: requireOperator(ctx) }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const connection =
      typeof query.connection === 'string' && query.connection.trim() ? query.connection.trim() : undefined
    const since = typeof query.since === 'string' && query.since.trim() ? query.since.trim() : undefined
    const now = ctx.keeper.now()
    let sinceAt: number | undefined
    let error: string | undefined
    try {
      sinceAt = since ? parseSince(since, now) : undefined
    } catch (caught) {
      if (!isInnkeeperError(caught)) throw caught
      error = caught.message
    }
    const entries = await ctx.keeper.audit.list({
      ...(connection ? { connection } : {}),
      ...(sinceAt !== undefined ? { since: sinceAt } : {}),
      limit: PAGE_LIMIT,
    })
    return sendPage(
      reply,
      auditPage({
        entries,
        now,
        connection,
        since,
        limit: PAGE_LIMIT,
        logoutCsrf: ctx.dashboardAuth === 'login' ? reply.generateCsrf() : undefined,
        error,
      }),
    )
  })
}
