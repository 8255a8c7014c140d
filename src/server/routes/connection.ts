// `GET /connections/:app/:name`: one connection's page for operators (same login as the
// dashboard): refresh timeline, details and audit entries.
import type { FastifyInstance } from 'fastify'
import { isInnkeeperError } from '../../errors.js'
import type { ServerContext } from '../context.js'
import { errorBody, statusFor } from '../errors.js'
import { requireOperator } from '../operator.js'
import { connectionPage } from '../pages/connection.js'
import { errorPage, sendPage } from '../pages/layout.js'

const ENTRY_LIMIT = 200

export function registerConnectionPageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { keeper } = ctx
  app.get<{ Params: { app: string; name: string } }>(
    '/connections/:app/:name',
    { preHandler: requireOperator(ctx) },
    async (request, reply) => {
      const id = `${request.params.app}/${request.params.name}`
      try {
        const connection = await keeper.connection(id).info()
        const [entries, provider] = await Promise.all([
          keeper.audit.list({ connection: connection.id, limit: ENTRY_LIMIT }),
          keeper.apps
            .get(connection.app)
            .then((info) => keeper.providers.get(info.provider))
            .catch(() => undefined),
        ])
        const csrf = reply.generateCsrf()
        return sendPage(
          reply,
          connectionPage({
            connection,
            provider,
            entries,
            limit: ENTRY_LIMIT,
            now: keeper.now(),
            csrf,
            logoutCsrf: ctx.dashboardAuth === 'login' ? csrf : undefined,
          }),
        )
      } catch (error) {
        if (!isInnkeeperError(error)) throw error
        const body = errorBody(error)
        return sendPage(reply.code(statusFor(error)), errorPage(reply, body.error.code, body.error.message))
      }
    },
  )
}
