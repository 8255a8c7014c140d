// `/proxy/:app/:name/*` (GET, HEAD, POST, PUT, PATCH, DELETE): forwards a request to the platform
// through `conn.fetch` (token injected, one refresh-and-retry on 401) and streams the answer back,
// marked `Innkeeper-Proxied: true` so callers tell it from Innkeeper's own errors. Only a short
// list of request headers goes out; hop-by-hop and platform cookies never come back.
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { requireApiKey } from '../auth.js'
import type { ServerContext } from '../context.js'

/** Request headers a caller may pass to the platform; never credentials, cookies or Host. */
const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'accept-language',
  'content-type',
  'content-language',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'prefer',
  'idempotency-key',
  'x-request-id',
]

/** Response headers that describe the connection to us, not the answer (or that `fetch` undid). */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'content-encoding',
  'content-length',
  'set-cookie',
  'www-authenticate',
])

const BODYLESS_METHODS = new Set(['GET', 'HEAD'])

/** What REST APIs use; TRACE (it would echo the injected token), OPTIONS and the rest are not forwarded. */
export const PROXIED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/** Set on every answer that came from the platform; Innkeeper's own errors lack it. */
export const PROXIED_HEADER = 'innkeeper-proxied'

/** The part after `/proxy/<app>/<name>`, still percent-encoded, with its query string. */
export function upstreamPath(rawUrl: string): string {
  const question = rawUrl.indexOf('?')
  const path = question < 0 ? rawUrl : rawUrl.slice(0, question)
  const query = question < 0 ? '' : rawUrl.slice(question)
  const rest = path.split('/').slice(4).join('/')
  // `@` would read as a BookyFlow `@placeholder`: it is the same path percent-encoded.
  return `/${rest.replace(/@/g, '%40')}${query}`
}

export function registerProxyRoutes(proxy: FastifyInstance, ctx: ServerContext): void {
  proxy.addHook('onRequest', proxy.rateLimit({ max: ctx.limits.apiPerMinute, timeWindow: 60_000 }))
  proxy.addHook('onRequest', requireApiKey(ctx))
  // Bodies are forwarded as they came, whatever their type.
  proxy.removeAllContentTypeParsers()
  proxy.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  async function forwardToPlatform(
    request: FastifyRequest<{ Params: { app: string; name: string } }>,
    reply: FastifyReply,
  ) {
    const connection = ctx.keeper.connection(`${request.params.app}/${request.params.name}`)
    const headers = new Headers()
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name]
      if (typeof value === 'string') headers.set(name, value)
    }
    const method = request.method.toUpperCase()
    const body =
      !BODYLESS_METHODS.has(method) && Buffer.isBuffer(request.body) && request.body.length > 0
        ? new Uint8Array(request.body)
        : undefined
    const response = await connection.fetch(upstreamPath(request.url), { method, headers, body })
    ctx.metrics.proxiedRequests += 1
    reply.code(response.status)
    for (const [name, value] of response.headers) {
      if (!DROPPED_RESPONSE_HEADERS.has(name)) reply.header(name, value)
    }
    reply.header('cache-control', response.headers.get('cache-control') ?? 'no-store')
    reply.header(PROXIED_HEADER, 'true')
    if (!response.body || method === 'HEAD' || response.status === 204 || response.status === 304) {
      await response.body?.cancel()
      return reply.send()
    }
    // biome-ignore lint/suspicious/noExplicitAny: web ReadableStream → Node stream across lib typings
    return reply.send(Readable.fromWeb(response.body as any))
  }

  proxy.route({ method: [...PROXIED_METHODS], url: '/proxy/:app/:name/*', handler: forwardToPlatform })
}
