// The operator pages: `GET /` (dashboard), `POST /apps/:app/connect` (start a connection),
// `POST /apps/:app/code` (finish an out-of-band one with the pasted code), `POST /apps/:app/api-key`
// (connect with an API key, where the provider takes one), `POST /connections/:app/:name/api-key`
// (replace an API-key connection's key) and `POST /connections/:app/:name/disconnect`. Every form is
// CSRF-protected; handlers call the library.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { runAsActor } from '../../audit/actor.js'
import { connectionId as connectionIdOf } from '../../connections/connection-id.js'
import { isApiKeyConnectionInfo } from '../../connections/credential.js'
import { ConfigError, InnkeeperError, isInnkeeperError } from '../../errors.js'
import type { ConnectGrant } from '../../providers/schema.js'
import { callbackUrl, type ServerContext } from '../context.js'
import { errorBody, statusFor } from '../errors.js'
import { fleetSummary } from '../fleet-summary.js'
import { apiKeyField, type FormBody, field, formBody } from '../form-body.js'
import { requireOperator, sessionOf } from '../operator.js'
import { outOfBandPage, redirectPage } from '../pages/connect.js'
import { type DashboardApp, dashboardPage, OOB_REDIRECT_URI } from '../pages/dashboard.js'
import { errorPage, sendPage } from '../pages/layout.js'
import { scriptNonce } from '../security-headers.js'

/** Who acts in the audit trail: the operator's session (`operator:password`, `operator:key:<id>`). */
function operatorActor(request: FastifyRequest): string {
  return `operator:${sessionOf(request)?.subject ?? 'demo'}`
}

/** `option.organizationId=…` form fields → `{ organizationId: … }` for the provider's connect options. */
function connectOptions(body: FormBody, names: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const value = field(body, `option.${name}`)
    if (value !== undefined) out[name] = value
  }
  return out
}

/** The grant picked on the form, when it is one the app offers (else the provider's default). */
function grantField(body: FormBody, offered: ConnectGrant[]): ConnectGrant | undefined {
  const value = field(body, 'grant')
  if (value === undefined) return undefined
  const grant = offered.find((g) => g === value)
  if (!grant) {
    throw new ConfigError('invalid_config', `This app does not connect with "${value.slice(0, 40)}".`)
  }
  return grant
}

function noticeFor(query: Record<string, unknown>): string | undefined {
  const id = typeof query.id === 'string' ? query.id.slice(0, 140) : ''
  if (query.notice === 'connected') return `Connected ${id}.`
  if (query.notice === 'key_replaced')
    return `Replaced the API key of ${id}: the platform accepted the new key, and only it is used from now on.`
  if (query.notice === 'disconnected')
    return `Disconnected ${id}: the grant is revoked and its tokens deleted.`
  if (query.notice === 'forgotten')
    return `Disconnected ${id}: its tokens are deleted here. The platform was not asked to revoke the grant (it has no revocation endpoint), so it may still be valid there until the account owner removes the app.`
  if (query.notice === 'revocation_failed')
    return `Disconnected ${id}; the platform did not confirm revoking the grant.`
  return undefined
}

/** Back to the dashboard, whose notice says what happened to connection `id`. */
function showNotice(reply: FastifyReply, notice: string, id: string): FastifyReply {
  return reply.redirect(`/?notice=${notice}&id=${encodeURIComponent(id)}`, 303)
}

/** The answer to a new key the platform refused: the old key is kept (never either key in it). */
function newKeyRefused(error: InnkeeperError, providerName: string, id: string): InnkeeperError {
  return new InnkeeperError(
    'invalid_token',
    `${providerName} refused the new API key for ${id}, so nothing was replaced: the old key is still the one in use. Check the new key (copied whole, made for the right account, not revoked) and replace it again.`,
    { status: error.status, cause: error },
  )
}

function sendFailure(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const status = statusFor(error)
  if (status >= 500) request.log.error({ err: error }, 'operator action failed')
  const body = errorBody(error)
  return sendPage(reply.code(status), errorPage(reply, body.error.code, body.error.message))
}

/** Frame ancestors for the connect pages: this server plus the configured embedding origins. */
function allowFraming(reply: FastifyReply, ctx: ServerContext): void {
  if (ctx.frameAncestors.length === 0) return
  const policy = String(reply.getHeader('content-security-policy') ?? '')
  reply.header(
    'content-security-policy',
    policy.replace(/frame-ancestors [^;]*/, `frame-ancestors 'self' ${ctx.frameAncestors.join(' ')}`),
  )
}

export function registerDashboardRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const operator = requireOperator(ctx)
  const { keeper } = ctx
  const withCsrf = [operator, app.csrfProtection]

  app.get('/', { preHandler: operator }, async (request, reply) => {
    const [apps, connections] = await Promise.all([keeper.apps.list(), keeper.connections()])
    const known = new Set(apps.map((info) => info.name))
    const cards: DashboardApp[] = apps.map((info) => ({
      info,
      provider: keeper.providers.get(info.provider),
      connections: connections.filter((connection) => connection.app === info.name),
    }))
    const now = keeper.now()
    const fleet = await fleetSummary(keeper.store, connections, now)
    allowFraming(reply, ctx)
    return sendPage(
      reply,
      dashboardPage({
        fleet,
        apps: cards,
        orphans: connections.filter((connection) => !known.has(connection.app)),
        callbackUrl: callbackUrl(ctx, request),
        now,
        csrf: reply.generateCsrf(),
        notice: noticeFor(request.query as Record<string, unknown>),
        showLogout: ctx.dashboardAuth === 'login',
        connectDefaults: ctx.connectDefaults,
      }),
    )
  })

  app.post<{ Params: { app: string } }>(
    '/apps/:app/connect',
    { preHandler: withCsrf },
    async (request, reply) => {
      const body = formBody(request)
      try {
        const info = await keeper.apps.get(request.params.app)
        const provider = keeper.providers.get(info.provider)
        const name = field(body, 'name') ?? 'main'
        // Apps without a registered redirect URI use this server's callback.
        const redirectUri = info.redirectUri ? undefined : callbackUrl(ctx, request)
        const result = await runAsActor(operatorActor(request), () =>
          keeper.connect(info.name, {
            name,
            redirectUri,
            grant: grantField(body, info.connectGrants),
            ...connectOptions(
              body,
              provider.connectOptions.map((option) => option.name),
            ),
          }),
        )
        if (result.kind === 'connected') {
          return showNotice(reply, 'connected', result.connection.id)
        }
        for (const warning of result.warnings) request.log.warn({ app: info.name }, warning)
        allowFraming(reply, ctx)
        const connectionId = connectionIdOf(info.name, name)
        if (result.redirectUri === OOB_REDIRECT_URI) {
          return sendPage(
            reply,
            outOfBandPage({
              app: info.name,
              providerName: provider.displayName,
              connectionId,
              url: result.url,
              state: result.state,
              csrf: reply.generateCsrf(),
              expiresAt: result.expiresAt,
            }),
          )
        }
        return sendPage(
          reply,
          redirectPage({
            connectionId,
            providerName: provider.displayName,
            url: result.url,
            nonce: scriptNonce(reply),
          }),
        )
      } catch (error) {
        return sendFailure(request, reply, error)
      }
    },
  )

  app.post<{ Params: { app: string } }>(
    '/apps/:app/code',
    { preHandler: withCsrf },
    async (request, reply) => {
      const body = formBody(request)
      try {
        const code = field(body, 'code')
        const state = field(body, 'state')
        const connection = await runAsActor(operatorActor(request), () =>
          keeper.completeAuthorization({ code, state: state ?? '' }),
        )
        if (connection.app !== request.params.app) request.log.warn('code pasted on another app’s form')
        return showNotice(reply, 'connected', connection.id)
      } catch (error) {
        return sendFailure(request, reply, error)
      }
    },
  )

  // The key comes in the form's body only: never a URL, a log line (bodies are not logged) or a page.
  app.post<{ Params: { app: string } }>(
    '/apps/:app/api-key',
    { preHandler: withCsrf },
    async (request, reply) => {
      const body = formBody(request)
      try {
        const info = await keeper.apps.get(request.params.app)
        const result = await runAsActor(operatorActor(request), () =>
          keeper.connect(info.name, {
            name: field(body, 'name') ?? 'main',
            apiKey: apiKeyField(body),
            // A new name only: an API-key connection's key is replaced by its own form (below).
            replace: false,
          }),
        )
        if (result.kind !== 'connected') throw new Error('an API key connects at once')
        return showNotice(reply, 'connected', result.connection.id)
      } catch (error) {
        return sendFailure(request, reply, error)
      }
    },
  )

  // The connection's app and name come from the path (its id), never from the form; the key only
  // from the POST body. The platform checks the new key before anything is replaced.
  app.post<{ Params: { app: string; name: string } }>(
    '/connections/:app/:name/api-key',
    { preHandler: withCsrf },
    async (request, reply) => {
      const body = formBody(request)
      try {
        const connection = await keeper.connection(`${request.params.app}/${request.params.name}`).info()
        if (!isApiKeyConnectionInfo(connection)) {
          throw new ConfigError(
            'invalid_config',
            `${connection.id} was connected with an authorization, not an API key: use Reconnect instead.`,
          )
        }
        await runAsActor(operatorActor(request), () =>
          keeper.connect(connection.app, {
            name: connection.name,
            apiKey: apiKeyField(body),
            replace: true,
          }),
        ).catch((error: unknown) => {
          if (!isInnkeeperError(error) || error.code !== 'invalid_token') throw error
          throw newKeyRefused(error, keeper.providers.get(connection.provider).displayName, connection.id)
        })
        return showNotice(reply, 'key_replaced', connection.id)
      } catch (error) {
        return sendFailure(request, reply, error)
      }
    },
  )

  app.post<{ Params: { app: string; name: string } }>(
    '/connections/:app/:name/disconnect',
    { preHandler: withCsrf },
    async (request, reply) => {
      try {
        const id = `${request.params.app}/${request.params.name}`
        const result = await runAsActor(operatorActor(request), () => keeper.disconnect(id))
        const notice = result.revoked
          ? 'disconnected'
          : result.revocationError
            ? 'revocation_failed'
            : 'forgotten'
        return showNotice(reply, notice, id)
      } catch (error) {
        return sendFailure(request, reply, error)
      }
    },
  )
}
