// Connect links: `POST /api/connect-sessions` (API key) creates a single-use link; the end user
// opens `GET /connect/<token>` (no operator login), and `POST /connect/<token>` (CSRF) uses the
// link up atomically and starts the app's connect step through the library: the consent redirect,
// the out-of-band code form (`POST /connect/<token>/code`), or client credentials at once. Redirect
// platforms come back through `/callback`, which finds the session by the authorization's state
// (see routes/callback.ts). Where the provider takes API keys, `POST /connect/<token>/api-key`
// (CSRF) connects with the key pasted on the page instead. Success goes to the session's return
// URL with `connection=<id>`.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { apiKeyActor, runAsActor } from '../../audit/actor.js'
import {
  bindState,
  type ConnectSession,
  type ConnectSessionInput,
  connectLinkUrl,
  createConnectSession,
  findConnectSession,
  forgetState,
  releaseConnectSession,
  returnUrlWith,
  sessionOfState,
  useConnectSession,
} from '../../connections/connect-sessions.js'
import { connectionId as connectionIdOf } from '../../connections/connection-id.js'
import { isInnkeeperError } from '../../errors.js'
import type { ConnectionInfo } from '../../model/connection.js'
import type { Store } from '../../stores/store.js'
import { apiKeyIdOf, requireApiKey } from '../auth.js'
import { callbackUrl, type ServerContext } from '../context.js'
import { errorBody, ServerError, statusFor } from '../errors.js'
import { apiKeyField, field, formBody } from '../form-body.js'
import { outOfBandPage, redirectPage } from '../pages/connect.js'
import { linkDonePage, linkFailedPage, linkRefusedPage, linkStartPage } from '../pages/connect-link.js'
import { OOB_REDIRECT_URI } from '../pages/dashboard.js'
import { sendPage } from '../pages/layout.js'
import { scriptNonce } from '../security-headers.js'

export function registerConnectSessionApi(api: FastifyInstance, ctx: ServerContext): void {
  api.addHook('onRequest', api.rateLimit({ max: ctx.limits.apiPerMinute, timeWindow: 60_000 }))
  api.addHook('onRequest', requireApiKey(ctx))
  api.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store')
    return payload
  })

  api.post<{ Body: ConnectSessionInput }>('/api/connect-sessions', async (request, reply) => {
    const body = (request.body ?? {}) as ConnectSessionInput
    if (typeof body !== 'object' || Array.isArray(body)) {
      return reply.code(400).send({ error: { code: 'invalid_request', message: 'Send a JSON object.' } })
    }
    const { token, session } = await createConnectSession(
      ctx.keeper,
      body,
      apiKeyActor(apiKeyIdOf(request) ?? 'unknown'),
    )
    return reply.code(201).send({
      url: connectLinkUrl(ctx.publicUrl(request), token),
      expiresAt: new Date(session.expiresAt).toISOString(),
      connectionId: connectionIdOf(session.app, session.name),
    })
  })
}

/**
 * Lets this page's forms end in a redirect to the session's return URL: browsers hold the
 * redirect after a form submission to the page's CSP `form-action`, which is 'self' otherwise.
 */
function allowReturnRedirect(reply: FastifyReply, session: ConnectSession): void {
  if (!session.returnUrl) return
  const policy = String(reply.getHeader('content-security-policy') ?? '')
  const origin = new URL(session.returnUrl).origin
  reply.header('content-security-policy', policy.replace(/form-action [^;]*/, `form-action 'self' ${origin}`))
}

/** Where the end user goes once connected: the return URL, or the success page. */
export function sendConnected(
  reply: FastifyReply,
  session: ConnectSession,
  connection: ConnectionInfo,
  providerName: string,
) {
  const back = returnUrlWith(session, connection.id)
  if (back) return reply.redirect(back, 303)
  return sendPage(reply, linkDonePage(connection.id, providerName))
}

export function sendLinkFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  /** The link was given back (nothing changed): its page, where the failure page offers to try again. */
  linkPage?: string,
) {
  const status = statusFor(error)
  const body = errorBody(error)
  if (status >= 500) request.log.error({ err: error }, 'connect link failed')
  else request.log.warn({ code: body.error.code }, 'connect link refused')
  return sendPage(
    reply.code(status >= 500 ? status : 400),
    linkFailedPage(body.error.code, body.error.message, linkPage),
  )
}

/** A link used up for one try; `giveBack()` returns it (and says true) when the try changed nothing. */
interface LinkTry {
  session: ConnectSession
  giveBack(): Promise<boolean>
}

/**
 * Uses the link up for one try (of concurrent callers one gets it, the others null), noting the
 * connection as it was: a try that failed and changed nothing (a refused organization or key, the
 * platform down before any grant) may give the link back, so the person can try again.
 */
async function useLinkForOneTry(store: Store, opened: ConnectSession, now: number): Promise<LinkTry | null> {
  const id = connectionIdOf(opened.app, opened.name)
  const before = await store.getConnection(id)
  const session = await useConnectSession(store, opened, now)
  if (!session) return null
  return {
    session,
    async giveBack() {
      const after = await store.getConnection(id).catch(() => undefined)
      if (after === undefined || (after?.version ?? 0) !== (before?.version ?? 0)) return false
      await releaseConnectSession(store, session).catch(() => undefined)
      return true
    },
  }
}

/** The link's own page: `/connect/<token>`. */
function linkPath(token: string): string {
  return `/connect/${encodeURIComponent(token)}`
}

export function registerConnectLinkPages(app: FastifyInstance, ctx: ServerContext): void {
  const { keeper } = ctx
  const limited = { config: { rateLimit: { max: 120, timeWindow: 60_000 } } }
  const withCsrf = { ...limited, preHandler: app.csrfProtection }

  /** The session the token names, or the refusal page already sent. */
  async function openSession(token: string, reply: FastifyReply): Promise<ConnectSession | null> {
    const found = await findConnectSession(keeper.store, token, keeper.now())
    if (found.status === 'open') return found.session
    sendPage(reply.code(found.status === 'unknown' ? 404 : 410), linkRefusedPage(found.status))
    return null
  }

  app.get<{ Params: { token: string } }>('/connect/:token', limited, async (request, reply) => {
    const session = await openSession(request.params.token, reply)
    if (!session) return reply
    const info = await keeper.apps.get(session.app)
    const provider = keeper.providers.get(info.provider)
    const credentials = info.connectMode === 'client_credentials'
    // Both forms that connect at once (credentials, API key) end in the return URL's redirect.
    if (credentials || provider.apiKey) allowReturnRedirect(reply, session)
    return sendPage(
      reply,
      linkStartPage({
        action: linkPath(request.params.token),
        providerName: provider.displayName,
        connectionId: connectionIdOf(session.app, session.name),
        csrf: reply.generateCsrf(),
        fields: credentials
          ? provider.connectOptions.filter((option) => !(option.name in session.options))
          : [],
        step: credentials ? 'credentials' : info.redirectUri === OOB_REDIRECT_URI ? 'code' : 'redirect',
        ...(provider.apiKey
          ? {
              apiKey: { action: `${linkPath(request.params.token)}/api-key`, header: provider.apiKey.header },
            }
          : {}),
        expiresAt: session.expiresAt,
      }),
    )
  })

  app.post<{ Params: { token: string } }>('/connect/:token', withCsrf, async (request, reply) => {
    const token = request.params.token
    const opened = await openSession(token, reply)
    if (!opened) return reply
    const body = formBody(request)
    const info = await keeper.apps.get(opened.app)
    const provider = keeper.providers.get(info.provider)
    const credentials = info.connectMode === 'client_credentials'
    // Options the session fixed win; the person fills in only the others.
    const filled: Record<string, string> = {}
    if (credentials) {
      for (const option of provider.connectOptions) {
        const value = field(body, `option.${option.name}`)
        if (value !== undefined && !(option.name in opened.options)) filled[option.name] = value.slice(0, 200)
      }
    }
    // The single use: of two submits (or two tabs) exactly one gets past this line.
    const attempt = await useLinkForOneTry(keeper.store, opened, keeper.now())
    if (!attempt) return sendPage(reply.code(410), linkRefusedPage('used'))
    const { session } = attempt
    try {
      const result = await runAsActor(session.actor, () =>
        keeper.connect(session.app, {
          ...filled,
          ...session.options,
          name: session.name,
          replace: session.replace,
          // Apps without a registered redirect URI use this server's callback.
          redirectUri: info.redirectUri ? undefined : callbackUrl(ctx, request),
        }),
      )
      if (result.kind === 'connected') {
        return sendConnected(reply, session, result.connection, provider.displayName)
      }
      await bindState(keeper.store, result.state, session, result.expiresAt)
      if (result.redirectUri === OOB_REDIRECT_URI) {
        allowReturnRedirect(reply, session)
        return sendPage(
          reply,
          outOfBandPage({
            app: session.app,
            providerName: provider.displayName,
            connectionId: connectionIdOf(session.app, session.name),
            url: result.url,
            state: result.state,
            csrf: reply.generateCsrf(),
            expiresAt: result.expiresAt,
            action: `/connect/${encodeURIComponent(token)}/code`,
          }),
        )
      }
      // A page that moves on to the consent page (a link and a script, not a redirect: the
      // form's CSP `form-action 'self'` would stop a redirect to another origin).
      return sendPage(
        reply,
        redirectPage({
          connectionId: connectionIdOf(session.app, session.name),
          providerName: provider.displayName,
          url: result.url,
          nonce: scriptNonce(reply),
        }),
      )
    } catch (error) {
      // Nothing changed (a refused organization, the platform down before any grant): the link
      // stays usable, so the person can correct the form and try again.
      if (await attempt.giveBack()) return sendLinkFailure(request, reply, error, linkPath(token))
      return sendLinkFailure(request, reply, error)
    }
  })

  app.post<{ Params: { token: string } }>('/connect/:token/code', withCsrf, async (request, reply) => {
    const found = await findConnectSession(keeper.store, request.params.token, keeper.now())
    const body = formBody(request)
    const state = field(body, 'state') ?? ''
    // Only the authorization this very link started: its state is bound to the session.
    const bound = found.status === 'unknown' ? null : await sessionOfState(keeper.store, state)
    if (found.status === 'unknown' || !bound || bound.id !== found.session.id) {
      const reason = found.status === 'unknown' ? 'unknown' : 'used'
      return sendPage(reply.code(reason === 'unknown' ? 404 : 410), linkRefusedPage(reason))
    }
    try {
      const connection = await runAsActor(bound.actor, () =>
        keeper.completeAuthorization({ code: field(body, 'code'), state }, state, { replace: bound.replace }),
      )
      const provider = keeper.providers.get(connection.provider)
      return sendConnected(reply, bound, connection, provider.displayName)
    } catch (error) {
      return sendLinkFailure(request, reply, error)
    } finally {
      await forgetState(keeper.store, state)
    }
  })
  registerApiKeyForm(app, ctx, withCsrf, openSession)
}

/**
 * `POST /connect/<token>/api-key`: the key pasted on the link's page. It uses the link up as
 * Continue does, and gives it back when the try changed nothing (a refused key, the platform
 * down), so the person can check the key and try again. The key comes in the form's body only:
 * never a URL, a page, a log line (bodies are not logged) or an error message.
 */
function registerApiKeyForm(
  app: FastifyInstance,
  ctx: ServerContext,
  /** The link pages' rate limit and CSRF check, as for Continue. */
  withCsrf: RouteShorthandOptions,
  openSession: (token: string, reply: FastifyReply) => Promise<ConnectSession | null>,
): void {
  const { keeper } = ctx
  app.post<{ Params: { token: string } }>('/connect/:token/api-key', withCsrf, async (request, reply) => {
    const token = request.params.token
    const opened = await openSession(token, reply)
    if (!opened) return reply
    const provider = keeper.providers.get((await keeper.apps.get(opened.app)).provider)
    if (!provider.apiKey) {
      const error = new ServerError(
        'invalid_request',
        `${provider.displayName} takes no API keys: use Continue.`,
      )
      return sendLinkFailure(request, reply, error, linkPath(token))
    }
    const body = formBody(request)
    const apiKey = apiKeyField(body)
    // The single use, as for Continue: of two submits exactly one gets past this line.
    const attempt = await useLinkForOneTry(keeper.store, opened, keeper.now())
    if (!attempt) return sendPage(reply.code(410), linkRefusedPage('used'))
    const { session } = attempt
    const connectionId = connectionIdOf(session.app, session.name)
    try {
      const result = await runAsActor(session.actor, () =>
        keeper.connect(session.app, { name: session.name, apiKey, replace: session.replace }),
      )
      if (result.kind !== 'connected') throw new Error('an API key connects at once')
      return sendConnected(reply, session, result.connection, provider.displayName)
    } catch (error) {
      const shown = forEndUser(error, provider.displayName, connectionId)
      // A name taken since the link was made cannot succeed on another try: the link stays used.
      const taken = isInnkeeperError(error) && error.code === 'conflict'
      if (!taken && (await attempt.giveBack())) return sendLinkFailure(request, reply, shown, linkPath(token))
      return sendLinkFailure(request, reply, shown)
    }
  })
}

/** The library's API-key errors speak to an operator (CLI commands); the link's page speaks to its end user. */
function forEndUser(error: unknown, providerName: string, connectionId: string): unknown {
  if (!isInnkeeperError(error)) return error
  switch (error.code) {
    case 'invalid_token':
      return new ServerError(
        'invalid_token',
        `${providerName} did not accept this API key. Check that you copied the whole key from your ${providerName} account and that it is still active there, then try again.`,
        400,
      )
    case 'invalid_config':
      return new ServerError(
        'invalid_config',
        'The API key is empty or contains spaces. Paste the whole key, without spaces, and try again.',
        400,
      )
    case 'conflict':
      return new ServerError(
        'conflict',
        `The connection ${connectionId} already exists, and this link may not replace it; nothing was changed. Ask the app that sent you for a new link.`,
        409,
      )
    default:
      return error
  }
}
