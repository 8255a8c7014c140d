// The request log: Fastify's pino logger writing one structured line per request, with
// credentials redacted by path and `code`/`state`/token query parameters stripped from URLs.
// Routes called at machine rates (the token API: `logQuietly`) log a successful answer at `debug`
// and count it in one `info` summary line per route and minute instead: a line per token handed
// out would be most of the log and a measurable share of each request's cost, and the audit trail
// already records every token (which key, which connection, when). Their failures are logged at
// once, like any other request's.

import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'
import { apiKeyIdOf } from './auth.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The summary a successful answer is counted in instead of a line of its own; '' = none. */
    quietLogRoute: string
  }
}

/** How often the summary of quiet routes' successful answers is written. */
export const QUIET_SUMMARY_MS = 60_000

/** A successful answer to this request is summarized under `route` (see the top of this file). */
export function logQuietly(request: FastifyRequest, route: string): void {
  request.quietLogRoute = route
}

/** Query parameters whose values never reach a log line. */
const SECRET_QUERY_PARAMS =
  /^(code|state|access_token|refresh_token|id_token|token|client_secret|api_key|apikey|key|password|session_state)$/i

/** A connect link carries its single-use token in the path: `/connect/<token>…`. */
const CONNECT_LINK_PATH = /^\/connect\/[^/?#]+/

/**
 * `/callback?code=abc&state=xyz` → `/callback?code=[redacted]&state=[redacted]`;
 * `/connect/<token>/code` → `/connect/[redacted]/code`.
 */
export function redactUrl(raw: string): string {
  const url = raw.replace(CONNECT_LINK_PATH, '/connect/[redacted]')
  const question = url.indexOf('?')
  if (question < 0) return url
  const path = url.slice(0, question)
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const rawName = eq < 0 ? pair : pair.slice(0, eq)
      let name = rawName
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '))
      } catch {
        // A malformed escape is logged as sent, minus its value below.
      }
      return SECRET_QUERY_PARAMS.test(name) ? `${rawName}=[redacted]` : pair
    })
    .join('&')
  return `${path}?${query}`
}

/** pino redact paths: headers, bodies and any field that names a credential. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.cookie',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.code',
  '*.state',
  '*.password',
  '*.apiKey',
  '*.token',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'password',
  'apiKey',
  'token',
]

export interface ServerLoggerOptions {
  level?: string
  /** Where lines go (default stdout); tests pass a stream to read them. */
  stream?: NodeJS.WritableStream
}

export function loggerOptions(
  options: boolean | ServerLoggerOptions | undefined,
): FastifyServerOptions['logger'] {
  if (options === false) return false
  const settings = options === true || options === undefined ? {} : options
  return {
    level: settings.level ?? process.env.INNKEEPER_LOG_LEVEL ?? 'info',
    ...(settings.stream ? { stream: settings.stream } : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // Fastify's default serializer logs the raw URL: ours strips credentials from it.
      req: (request: { method?: string; url?: string; ip?: string }) => ({
        method: request.method,
        url: redactUrl(request.url ?? ''),
        remoteAddress: request.ip,
      }),
    },
  }
}

/**
 * Fastify's two lines per request (received, completed) become one, written on completion, with
 * the API key's id when one was used; quiet routes' successful answers are counted instead.
 */
export class OneLinePerRequest extends LogController {
  /** Successful answers of quiet routes since `since` (the last summary), by route. */
  private readonly quiet = new Map<string, number>()
  private since = Date.now()
  private summaryLog: FastifyBaseLogger | undefined
  private summaryTimer: NodeJS.Timeout | undefined

  /** Call before any route is added: summaries go to `app.log`, the last one when `app` closes. */
  attach(app: FastifyInstance): void {
    this.summaryLog = app.log
    app.setChildLoggerFactory((logger, bindings, options) => new LazyChildLogger(logger, bindings, options))
    app.decorateRequest('quietLogRoute', '')
    app.addHook('onClose', (_instance, done) => {
      clearInterval(this.summaryTimer)
      this.summaryTimer = undefined
      this.summarize()
      done()
    })
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const quietRoute = request.quietLogRoute
    if (quietRoute && !error && reply.statusCode < 400) {
      this.countQuiet(quietRoute)
      if (levelEnabled(request.log, 'debug')) request.log.debug(requestLine(request, reply), 'request')
      return
    }
    const line = requestLine(request, reply)
    if (error) request.log.error({ ...line, err: error }, 'request errored')
    else request.log.info(line, 'request')
  }

  private countQuiet(route: string): void {
    this.quiet.set(route, (this.quiet.get(route) ?? 0) + 1)
    if (!this.summaryTimer && this.summaryLog) {
      this.summaryTimer = setInterval(() => this.summarize(), QUIET_SUMMARY_MS)
      this.summaryTimer.unref()
    }
  }

  private summarize(): void {
    const seconds = Math.round((Date.now() - this.since) / 1000)
    for (const [route, answered] of this.quiet) {
      this.summaryLog?.info({ route, answered, seconds }, 'requests summarized')
    }
    this.quiet.clear()
    this.since = Date.now()
  }
}

type LogArgs = Parameters<FastifyBaseLogger['info']>

/**
 * A request's logger, made when the request first logs something: Fastify makes a pino child per
 * request (its `reqId` binding serialized and redacted, ~5 % of a token request), and a token
 * handed out logs nothing (see the top of this file).
 */
class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get log(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options)
    return this.made
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level
  }

  set level(level: string) {
    this.log.level = level
  }

  /** Answered by the parent while the child has no level of its own (nothing is made for it). */
  isLevelEnabled(level: string): boolean {
    return this.made || this.options.level ? levelEnabled(this.log, level) : levelEnabled(this.parent, level)
  }

  fatal(...args: LogArgs): void {
    this.log.fatal(...args)
  }
  error(...args: LogArgs): void {
    this.log.error(...args)
  }
  warn(...args: LogArgs): void {
    this.log.warn(...args)
  }
  info(...args: LogArgs): void {
    this.log.info(...args)
  }
  debug(...args: LogArgs): void {
    this.log.debug(...args)
  }
  trace(...args: LogArgs): void {
    this.log.trace(...args)
  }
  silent(...args: LogArgs): void {
    this.log.silent(...args)
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.log.child(bindings, options)
  }
}

/** pino's check, so a line nobody reads is not built (the no-op logger of `logger: false` has none). */
function levelEnabled(log: FastifyBaseLogger, level: string): boolean {
  return (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.(level) ?? false
}

function requestLine(request: FastifyRequest, reply: FastifyReply) {
  const apiKeyId = apiKeyIdOf(request)
  return {
    req: request,
    res: { statusCode: reply.statusCode },
    responseTime: reply.elapsedTime,
    ...(apiKeyId ? { apiKeyId } : {}),
  }
}
