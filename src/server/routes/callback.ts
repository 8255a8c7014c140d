// `GET /callback`: where redirecting platforms (Booking Experts) send the browser back. The
// library checks `state` (single use, 10 minutes) and the RFC 6749 error answer; every refusal
// is a readable 400 page and stores nothing; success runs post-connect steps and shows the
// platform's return URL.
import type { FastifyInstance } from 'fastify'
import { isInnkeeperError } from '../../errors.js'
import { getProvider } from '../../providers/index.js'
import type { ServerContext } from '../context.js'
import { errorBody, statusFor } from '../errors.js'
import { callbackFailedPage, connectedPage } from '../pages/callback.js'
import { sendPage } from '../pages/layout.js'

const CALLBACK_PARAMS = ['code', 'state', 'error', 'error_description'] as const

export function registerCallbackRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/callback',
    { config: { rateLimit: { max: 120, timeWindow: 60_000 } } },
    async (request, reply) => {
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
        const connection = await ctx.keeper.completeAuthorization(query)
        return sendPage(reply, connectedPage(connection, getProvider(connection.provider).displayName))
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
    },
  )
}
