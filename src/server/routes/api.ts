// The JSON API for other services: list and read connections, hand out a valid access token,
// force a refresh. Ids contain a slash: `/api/connections/acme%2Fmain` and
// `/api/connections/acme/main` both work. Every route needs an API key and is rate limited.
import type { FastifyInstance } from 'fastify'
import { apiKeyActor, runAsActor } from '../../audit/actor.js'
import { apiKeyIdOf, requireApiKey } from '../auth.js'
import type { ServerContext } from '../context.js'
import { logQuietly } from '../logging.js'

interface IdParams {
  id?: string
  app?: string
  name?: string
}

/** The token route as its log summary names it (its successful answers are not logged one by one). */
const TOKEN_ROUTE = 'POST /api/connections/:id/token'

function connectionIdOf(params: IdParams): string {
  return params.app !== undefined ? `${params.app}/${params.name}` : (params.id ?? '')
}

export function registerApiRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const { keeper, metrics } = ctx
  // First, so every answer of these routes (a 429 or a 401 too) says not to keep it.
  api.addHook('onRequest', (_request, reply, done) => {
    reply.header('cache-control', 'no-store')
    done()
  })
  // Limits first, so a guessed key costs a request from the budget like any other.
  api.addHook('onRequest', api.rateLimit({ max: ctx.limits.apiPerMinute, timeWindow: 60_000 }))
  api.addHook('onRequest', requireApiKey(ctx))

  api.get('/api/connections', async () => ({ connections: await keeper.connections() }))

  for (const path of ['/api/connections/:id', '/api/connections/:app/:name']) {
    api.get<{ Params: IdParams }>(path, async (request) =>
      keeper.connection(connectionIdOf(request.params)).info(),
    )

    api.post<{ Params: IdParams }>(`${path}/token`, async (request) => {
      logQuietly(request, TOKEN_ROUTE)
      // Recorded in the audit trail under the API key (token.issued takes it from the call), with
      // any refresh it causes: only a token that must be renewed first runs in `runAsActor`'s
      // scope, whose AsyncLocalStorage would otherwise slow every promise of the process.
      const actor = apiKeyActor(apiKeyIdOf(request) ?? 'unknown')
      const connection = keeper.connection(connectionIdOf(request.params))
      const token = (await connection.freshTokenAtHand())
        ? await connection.token({ actor })
        : await runAsActor(actor, () => connection.token({ actor }))
      metrics.tokensServed += 1
      return token
    })

    api.post<{ Params: IdParams }>(`${path}/refresh`, async (request) =>
      runAsActor(apiKeyActor(apiKeyIdOf(request) ?? 'unknown'), () =>
        keeper.connection(connectionIdOf(request.params)).refresh(),
      ),
    )
  }
}
