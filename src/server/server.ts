// `createServer()`: the Fastify instance behind `innkeeper serve`. Security (helmet's headers on
// every response, rate limits, CSRF, signed cookies), the request log, errors as JSON for
// programs and as pages for people, and the route modules under `routes/`.
import { randomBytes } from 'node:crypto'
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Innkeeper } from '../index.js'
import { ApiKeyVerifier } from './api-keys.js'
import { makePublicUrl, makeSecureCookies, type ServerContext } from './context.js'
import { errorBody, statusFor } from './errors.js'
import { refuseForeignHosts } from './host-check.js'
import { loggerOptions, OneLinePerRequest, type ServerLoggerOptions } from './logging.js'
import { ServerMetrics } from './metrics.js'
import { errorPage, sendPage } from './pages/layout.js'
import { recordRoutes } from './route-list.js'
import { registerApiRoutes } from './routes/api.js'
import { registerAssetRoutes } from './routes/assets.js'
import { registerAuditRoutes } from './routes/audit.js'
import { registerCallbackRoute } from './routes/callback.js'
import { registerConnectLinkPages, registerConnectSessionApi } from './routes/connect-sessions.js'
import { registerConnectionPageRoutes } from './routes/connection.js'
import { registerDashboardRoutes } from './routes/dashboard.js'
import { registerHealthRoutes } from './routes/health.js'
import { registerLoginRoutes } from './routes/login.js'
import { registerProxyRoutes } from './routes/proxy.js'
import { registerWebhookRoutes } from './routes/webhooks.js'
import { addSecurityHeaders } from './security-headers.js'

export interface ServerOptions {
  keeper: Innkeeper
  /** Plain API keys accepted besides the store's hashed ones (`INNKEEPER_API_KEYS`). */
  apiKeys?: string[]
  /** Operator login password (`INNKEEPER_ADMIN_PASSWORD`); an API key also logs in. */
  adminPassword?: string
  /** This server's origin as browsers reach it; default: from each request's Host. */
  publicUrl?: string
  logger?: boolean | ServerLoggerOptions
  /** `none` serves the operator pages without a login; only `serve --demo` on loopback uses it. */
  dashboardAuth?: 'login' | 'none'
  /** Signs session and CSRF cookies; default `INNKEEPER_SESSION_SECRET` or random per process. */
  sessionSecret?: string
  /** Origins allowed to frame the connect pages (an embedding app's page), besides this server. */
  frameAncestors?: string[]
  /** Prefilled connect-option values per app on the dashboard, e.g. `{ bt: { organizationId: '…' } }`. */
  connectDefaults?: Record<string, Record<string, string>>
  /** Requests per minute and client address. */
  rateLimit?: { apiPerMinute?: number; loginPerMinute?: number }
  /** Trust `X-Forwarded-*` from a reverse proxy (for the client address and protocol). */
  trustProxy?: boolean
  /**
   * Host names answered besides `localhost`, the address a request arrived on and the public
   * URL's host (`--allowed-host`); any other `Host` gets a 421 (DNS rebinding).
   */
  allowedHosts?: string[]
}

/** Routes whose callers are programs: errors go out as JSON. */
function wantsJson(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? ''
  return (
    path.startsWith('/api/') ||
    path.startsWith('/proxy/') ||
    path === '/api' ||
    path === '/readyz' ||
    path === '/healthz' ||
    path === '/openapi.json'
  )
}

export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const logController = new OneLinePerRequest()
  const app = Fastify({
    logger: loggerOptions(options.logger),
    logController,
    trustProxy: options.trustProxy ?? false,
    forceCloseConnections: 'idle',
    bodyLimit: 5 * 1024 * 1024,
    routerOptions: { maxParamLength: 300 },
  })
  logController.attach(app)
  recordRoutes(app)
  const metrics = new ServerMetrics(options.keeper)
  const sessionSecret =
    options.sessionSecret ?? process.env.INNKEEPER_SESSION_SECRET ?? randomBytes(32).toString('hex')
  const ctx: ServerContext = {
    keeper: options.keeper,
    verifier: new ApiKeyVerifier(options.keeper.store, options.apiKeys ?? []),
    metrics,
    adminPassword: options.adminPassword || undefined,
    sessionSecret,
    dashboardAuth: options.dashboardAuth ?? 'login',
    frameAncestors: options.frameAncestors ?? [],
    connectDefaults: options.connectDefaults ?? {},
    limits: {
      apiPerMinute: options.rateLimit?.apiPerMinute ?? 1200,
      loginPerMinute: options.rateLimit?.loginPerMinute ?? 10,
    },
    publicUrl: makePublicUrl(options.publicUrl),
    secureCookies: makeSecureCookies(options.publicUrl),
  }
  const httpsOnly = options.publicUrl?.startsWith('https:') ?? false

  addSecurityHeaders(app, { httpsOnly })
  // Before anything else but the headers, health checks included: a rebound name gets nothing.
  app.addHook(
    'onRequest',
    refuseForeignHosts({ publicUrl: options.publicUrl, allowedHosts: options.allowedHosts }),
  )

  await app.register(cookie, { secret: sessionSecret })
  await app.register(formbody)
  await app.register(rateLimit, { global: false })
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'innkeeper_csrf',
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', path: '/', secure: 'auto' },
    getToken: (request) => (request.body as Record<string, string> | undefined)?._csrf,
  })

  app.addHook('onClose', async () => {
    await metrics.close()
    await ctx.verifier.close()
  })

  app.setErrorHandler((error, request, reply) => {
    const status = statusFor(error)
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    if (reply.sent) return
    if (wantsJson(request)) {
      reply.code(status).type('application/json').send(errorBody(error))
      return
    }
    const body = errorBody(error)
    sendPage(reply.code(status), errorPage(reply, body.error.code, body.error.message))
  })
  app.setNotFoundHandler((request, reply) => {
    const message = `Nothing lives at ${request.method} ${request.url.split('?')[0]}.`
    if (wantsJson(request)) {
      reply.code(404).send({ error: { code: 'not_found', message } })
      return
    }
    sendPage(reply.code(404), errorPage(reply, 'not_found', message))
  })

  registerAssetRoutes(app)
  registerHealthRoutes(app, ctx)
  registerLoginRoutes(app, ctx)
  registerDashboardRoutes(app, ctx)
  registerAuditRoutes(app, ctx)
  registerConnectionPageRoutes(app, ctx)
  registerCallbackRoute(app, ctx)
  registerConnectLinkPages(app, ctx)
  await app.register(async (scope) => registerApiRoutes(scope, ctx))
  await app.register(async (scope) => registerProxyRoutes(scope, ctx))
  await app.register(async (scope) => registerWebhookRoutes(scope, ctx))
  await app.register(async (scope) => registerConnectSessionApi(scope, ctx))
  return app
}
