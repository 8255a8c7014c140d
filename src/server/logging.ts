// The request log: Fastify's pino logger writing one structured line per request, with
// credentials redacted by path and `code`/`state`/token query parameters stripped from URLs.
import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify'

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

/** Fastify's two lines per request (received, completed) become one, written on completion. */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }
    if (error) request.log.error({ ...line, err: error }, 'request errored')
    else request.log.info(line, 'request')
  }
}
