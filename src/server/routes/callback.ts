// `GET /callback` and `GET /callback/:app`: where redirecting platforms (Booking Experts) send
// the browser back. The library checks `state` (single use, 10 minutes) and the RFC 6749 error
// answer; every refusal is a readable 400 page and stores nothing; success runs post-connect
// steps and shows the platform's return URL. The per-app form also accepts installs started in
// the platform's app store, which carry a code and no state, where the provider says so.
// An authorization a connect link started (its state is bound to the link's session) ends the
// link's way: its return URL, and its creator (API key) in the audit trail.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { runAsActor } from '../../audit/actor.js'
import { type ConnectSession, forgetState, sessionOfState } from '../../connections/connect-sessions.js'
import { InnkeeperError, isInnkeeperError } from '../../errors.js'
import type { ConnectionInfo } from '../../model/connection.js'
import type { ServerContext } from '../context.js'
import { errorBody, statusFor } from '../errors.js'
import { callbackFailedPage, connectedPage } from '../pages/callback.js'
import { sendPage } from '../pages/layout.js'
import { sendConnected, sendLinkFailure } from './connect-sessions.js'

const CALLBACK_PARAMS = ['code', 'state', 'error', 'error_description'] as const

export function registerCallbackRoute(app: FastifyInstance, ctx: ServerContext): void {
  const options = { config: { rateLimit: { max: 120, timeWindow: 60_000 } } }
  app.get('/callback', options, (request, reply) =>
    handleCallback(request, reply, ctx, undefined, (query) => ctx.keeper.completeAuthorization(query)),
  )
  app.get<{ Params: { app: string } }>('/callback/:app', options, (request, reply) =>
    handleCallback(request, reply, ctx, request.params.app, (query) =>
      ctx.keeper.completeInstallCallback(request.params.app, query),
    ),
  )
}

/** A callback for an authorization a connect link started: completed for that link's session. */
async function completeLinkSession(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: ServerContext,
  session: ConnectSession,
  query: URLSearchParams,
  expectedApp: string | undefined,
) {
  const state = query.get('state') ?? ''
  try {
    if (expectedApp !== undefined && expectedApp !== session.app) {
      throw new InnkeeperError(
        'invalid_state',
        `This callback belongs to another app than ${expectedApp}. Nothing was stored.`,
      )
    }
    // Recorded under whoever created the link (its API key), never as the anonymous callback.
    const connection = await runAsActor(session.actor, () =>
      ctx.keeper.completeAuthorization(query, state, { replace: session.replace }),
    )
    return sendConnected(
      reply,
      session,
      connection,
      ctx.keeper.providers.get(connection.provider).displayName,
    )
  } catch (error) {
    return sendLinkFailure(request, reply, error)
  } finally {
    await forgetState(ctx.keeper.store, state)
  }
}

async function handleCallback(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: ServerContext,
  expectedApp: string | undefined,
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
  const linkSession = await sessionOfState(ctx.keeper.store, query.get('state') ?? undefined)
  if (linkSession) return completeLinkSession(request, reply, ctx, linkSession, query, expectedApp)
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
