// How long any request to a platform may take and how large its answer may be: the API, the
// proxy and post-connect steps (default 30 s and 16 MiB), and — when configured — the token and
// revocation endpoints too (otherwise their own 15 s and 1 MiB). Set with Innkeeper.open
// ({ requestTimeoutMs, maxResponseBytes }) or INNKEEPER_REQUEST_TIMEOUT / INNKEEPER_MAX_RESPONSE_BYTES.
import { ConfigError, InnkeeperError } from '../errors.js'
import { type DurationUnit, durationMs } from '../model/duration.js'

export interface HttpLimits {
  /** Whole-request timeout (headers and body), ms. */
  timeoutMs: number
  /** Largest answer body read or streamed, bytes. */
  maxResponseBytes: number
  /** Whether `timeoutMs` was configured (then it applies to the token endpoint as well). */
  configured: boolean
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
  configured: false,
}

/** A request timeout is written in ms, s or m (`30s`, `500ms`); a bare number is ms. */
const TIMEOUT_UNITS: readonly DurationUnit[] = ['ms', 's', 'm']

function positive(value: number | string | undefined, what: string, units: boolean): number | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return value
  } else {
    const parsed = units
      ? durationMs(value, TIMEOUT_UNITS)
      : /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : undefined
    if (parsed !== undefined && parsed > 0) return parsed
  }
  throw new ConfigError(
    'invalid_config',
    `The ${what} "${String(value).slice(0, 40)}" is not a positive ${units ? 'duration (e.g. 30s, 500ms)' : 'number of bytes'}.`,
  )
}

export function httpLimitsFrom(
  options: { requestTimeoutMs?: number | string; maxResponseBytes?: number | string },
  env: NodeJS.ProcessEnv = process.env,
): HttpLimits {
  const timeout =
    positive(options.requestTimeoutMs, 'request timeout', true) ??
    positive(env.INNKEEPER_REQUEST_TIMEOUT, 'request timeout (INNKEEPER_REQUEST_TIMEOUT)', true)
  const size =
    positive(options.maxResponseBytes, 'response size limit', false) ??
    positive(env.INNKEEPER_MAX_RESPONSE_BYTES, 'response size limit (INNKEEPER_MAX_RESPONSE_BYTES)', false)
  return {
    timeoutMs: timeout ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxResponseBytes: size ?? DEFAULT_MAX_RESPONSE_BYTES,
    configured: timeout !== undefined,
  }
}

/**
 * A whole-request deadline: `signal` aborts with a `TimeoutError` after `ms` unless `done()` ran
 * first; its timer never keeps the process alive. Used instead of `AbortSignal.timeout()`, whose
 * transferable signal cost Node 20 tens of µs per request (CPU profile of one refresh, issue 15)
 * and whose timer outlives every answer.
 */
export function requestDeadline(ms: number): { signal: AbortSignal; done(): void } {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new DOMException('The request took too long.', 'TimeoutError')),
    ms,
  )
  timer.unref()
  return { signal: controller.signal, done: () => clearTimeout(timer) }
}

export function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
}

export function timeoutError(provider: string, what: string, timeoutMs: number): InnkeeperError {
  return new InnkeeperError(
    'provider_timeout',
    `${provider} did not answer ${what} within ${formatMs(timeoutMs)}. Try again later; if it is always slow, raise INNKEEPER_REQUEST_TIMEOUT.`,
    { details: { timeoutMs } },
  )
}

export function tooLargeError(provider: string, what: string, limit: number): InnkeeperError {
  return new InnkeeperError(
    'response_too_large',
    `${provider} answered ${what} with more than ${limit} bytes; Innkeeper stopped reading. Ask for less (pagination), or raise INNKEEPER_MAX_RESPONSE_BYTES.`,
    { details: { maxResponseBytes: limit } },
  )
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/**
 * The same answer with its body cut off (an error on the stream) past `limit` bytes; refused
 * at once when `Content-Length` already says it is too large. `onEnd` runs once a counted body
 * has been read to its end (at once when there is none).
 */
export function limitResponse(
  response: Response,
  limit: number,
  onTooLarge: () => Error,
  onEnd: () => void = () => {},
): Response {
  const declared = Number(response.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > limit) {
    void response.body?.cancel().catch(() => {})
    throw onTooLarge()
  }
  if (!response.body) {
    onEnd()
    return response
  }
  // A declared length within the limit bounds an unencoded body by itself (the HTTP parser reads
  // no further): such an answer is passed on as it is, sparing a stream pipe per request, and its
  // deadline lapses on its own (`onEnd` is not called). A compressed body is always counted.
  const encoding = response.headers.get('content-encoding')
  if (response.headers.has('content-length') && (!encoding || encoding === 'identity')) return response
  let seen = 0
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength
      if (seen > limit) controller.error(onTooLarge())
      else controller.enqueue(chunk)
    },
    flush: onEnd,
  })
  const limited = new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
  Object.defineProperty(limited, 'url', { value: response.url })
  Object.defineProperty(limited, 'redirected', { value: response.redirected })
  return limited
}
