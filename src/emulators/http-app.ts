// The Fastify instance every emulator server starts from: form and JSON:API bodies, the
// emulator's clock in the `Date` header, latency and API faults, JSON 404s, and listening on
// loopback. Never logs (so never logs a secret).
import type { FastifyInstance } from 'fastify'
import type { EmulatorCore } from './core.js'
import { latencyFor, sendFault, takeApiFault } from './faults.js'

/** What a route is, for hooks: latency and faults skip the admin API. */
export type RouteKind = 'token' | 'api' | 'page' | 'admin' | 'public'

declare module 'fastify' {
  interface FastifyContextConfig {
    kind?: RouteKind
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function createEmulatorApp(core: EmulatorCore): Promise<FastifyInstance> {
  // Loaded when an emulator starts, not when the list of platforms is read (`innkeeper --help`).
  const [{ default: Fastify }, { default: formbody }] = await Promise.all([
    import('fastify'),
    import('@fastify/formbody'),
  ])
  const app = Fastify({ logger: false, forceCloseConnections: true, return503OnClosing: false })
  await app.register(formbody)
  app.addContentTypeParser(
    'application/vnd.api+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  )

  app.addHook('onRequest', async (request, reply) => {
    const kind = request.routeOptions.config?.kind
    // The token endpoint applies its own latency after taking its fault counters.
    if (kind === 'admin' || kind === 'token') return
    const delay = latencyFor(core)
    if (delay > 0) await sleep(delay)
    if (kind === 'api') {
      core.stats.apiRequests.total += 1
      core.stats.lastApiRequestHeaders = {}
      for (const name of ['accept', 'accept-language']) {
        const value = request.headers[name]
        if (typeof value === 'string') core.stats.lastApiRequestHeaders[name] = value
      }
      if (sendFault(reply, takeApiFault(core))) return reply
    }
  })
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('date', new Date(core.clock.nowMs()).toUTCString())
    if (request.routeOptions.config?.kind === 'api') {
      if (reply.statusCode === 401) core.stats.apiRequests.unauthorized += 1
      if (reply.statusCode === 403) core.stats.apiRequests.forbidden += 1
    }
    return payload
  })

  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500
    if (request.routeOptions.config?.kind === 'token') {
      reply
        .code(status === 500 ? 500 : 400)
        .header('cache-control', 'no-store')
        .send({
          error: status === 500 ? 'server_error' : 'invalid_request',
          error_description: status === 500 ? 'Internal error.' : error.message,
        })
      return
    }
    reply
      .code(status)
      .send({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: error.message })
  })
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: 'not_found',
      error_description: `No route for ${request.method} ${request.url.split('?')[0]}`,
    })
  })
  return app
}

/** Listens on loopback and returns the origin, e.g. `http://127.0.0.1:43117`. */
export async function listenOnLoopback(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port, backlog: 4096 })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('The emulator did not get a TCP address.')
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${shownHost}:${address.port}`
}
