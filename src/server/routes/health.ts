// `GET /healthz` (the process answers), `GET /readyz` (the store answers), `GET /metrics`
// (Prometheus text) and `GET /openapi.json`. None of them needs a key or shows a secret.
import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.js'
import { openApiDocument } from '../openapi.js'

export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/healthz', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  )

  app.get('/readyz', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    try {
      await ctx.keeper.store.ping()
      return reply.send({ status: 'ready', store: ctx.keeper.store.kind })
    } catch (error) {
      request.log.warn({ err: error }, 'store ping failed')
      return reply.code(503).send({
        error: {
          code: 'store_unavailable',
          message: `The ${ctx.keeper.store.kind} store does not answer.`,
        },
      })
    }
  })

  app.get('/metrics', async (_request, reply) =>
    reply
      .header('cache-control', 'no-store')
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(await ctx.metrics.render()),
  )

  app.get('/openapi.json', async (request, reply) => reply.send(openApiDocument(ctx.publicUrl(request))))
}
