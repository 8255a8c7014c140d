// `GET /callback` and `GET /callback/:app`: where redirecting platforms (Booking Experts) send
// the browser back. The library checks `state` (single use, 10 minutes) and the RFC 6749 error
// answer; every refusal is a readable 400 page and stores nothing; success runs post-connect
// steps and shows the platform's return URL. The per-app form also accepts installs started in
// the platform's app store, which carry a code and no state, where the provider says so.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { runAsActor } from '../../audit/actor.js'
import type { ConnectionInfo } from '../../connections/view.js'
import { isInnkeeperError } from '../../errors.js'
import type { ServerContext } from '../context.js'
import { errorBody, statusFor } from '../errors.js'
import { callbackFailedPage, connectedPage } from '../pages/callback.js'
import { sendPage } from '../pages/layout.js'

const CALLBACK_PARAMS = ['code', 'state', 'error', 'error_description'] as const

export function registerCallbackRoute(app: FastifyInstance, ctx: ServerContext): void {
  const options = { config: { rateLimit: { max: 120, timeWindow: 60_000 } } }
  app.get('/callback', options, (request, reply) =>
    handleCallback(request, reply, ctx, (query) => ctx.keeper.completeAuthorization(query)),
  )
  app.get<{ Params: { app: string } }>('/callback/:app', options, (request, reply) =>
    handleCallback(request, reply, ctx, (query) =>
      ctx.keeper.completeInstallCallback(request.params.app, query),
    ),
  )
}

async function handleCallback(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: ServerContext,
  complete: (query: URLSearchParams) => Promise<ConnectionInfo>,
) {
  const query = new URLSearchParams(request.url.split('?')[1] ?? '')
  const repeated = CALLBACK_PARAMS.find((name) => query.getAll(name).length > 1)
  if (repeated) {
    return sendPage(
      reply.code(400),
      callbackFailedPage(
        'invalid_request',
        `The callback repeats the ${repeated} parameter (RFC 6749 forbids it).`,
      ),
    )
  }
  try {
    // The browser coming back from the platform: whoever started it, the callback completes it.
    const connection = await runAsActor('oauth-callback', () => complete(query))
    return sendPage(
      reply,
      connectedPage(connection, ctx.keeper.providers.get(connection.provider).displayName),
    )
  } catch (error) {
    const status = statusFor(error)
    // The platform failing is a gateway error; anything about this request is the caller's 400.
    const code = isInnkeeperError(error) ? error.code : 'internal_error'
    if (status >= 500) request.log.error({ err: error }, 'callback failed')
    else request.log.warn({ code }, 'callback refused')
    const body = errorBody(error)
    return sendPage(
      reply.code(status >= 500 ? status : 400),
      callbackFailedPage(body.error.code, body.error.message, status < 500),
    )
  }
}
