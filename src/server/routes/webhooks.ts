// The webhook receivers API: `GET /api/webhooks` (receivers and the deliveries waiting or dead),
// `POST /api/webhooks` `{ url, events? }` (answers the secret once), `DELETE /api/webhooks/:id`.
// API-key protected and rate limited like the other `/api` routes.
import type { FastifyInstance } from 'fastify'
import { requireApiKey } from '../auth.js'
import type { ServerContext } from '../context.js'
import { ServerError } from '../errors.js'

export function registerWebhookRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const { keeper } = ctx
  api.addHook('onRequest', api.rateLimit({ max: ctx.limits.apiPerMinute, timeWindow: 60_000 }))
  api.addHook('onRequest', requireApiKey(ctx))
  api.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store')
    return payload
  })

  api.get('/api/webhooks', async () => ({
    webhooks: await keeper.webhooks.list(),
    deliveries: await keeper.webhooks.deliveries(),
  }))

  api.post<{ Body: { url?: unknown; events?: unknown } }>('/api/webhooks', async (request, reply) => {
    const { url, events } = request.body ?? {}
    if (typeof url !== 'string' || (events !== undefined && !Array.isArray(events))) {
      throw new ServerError(
        'invalid_request',
        'Send JSON { "url": "https://…", "events": ["connection.error", …] }.',
      )
    }
    const added = await keeper.webhooks.add(url, { events: events?.map(String) })
    return reply.code(201).send(added)
  })

  api.delete<{ Params: { id: string } }>('/api/webhooks/:id', async (request, reply) => {
    await keeper.webhooks.remove(request.params.id)
    return reply.code(204).send()
  })
}
