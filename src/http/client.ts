// The authenticated client behind `conn.fetch()`: injects the access token and the provider's
// default headers, refreshes and retries once when the token is refused, honours 429
// `Retry-After`, and turns a 403 `insufficient_scope` into an error naming the scope.
import { ApiError, InnkeeperError, isInnkeeperError } from '../errors.js'
import { readBody } from '../oauth/body.js'
import { apiError, parseRetryAfter } from '../oauth/errors.js'
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isTimeout,
  limitResponse,
  requestDeadline,
  timeoutError,
  tooLargeError,
} from './limits.js'
import { type Params, type Query, resolveRequestUrl } from './request-url.js'

export interface ApiRequestInit extends Omit<RequestInit, 'body'> {
  body?: string | Uint8Array | URLSearchParams | null
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown
  /** Values for `@name` / `{name}` placeholders in the path. */
  params?: Params
  query?: Query
  /** Send no token (the platform's auth-free endpoints). */
  auth?: boolean
  /** How often a 429 is waited out before giving up (default 2). */
  rateLimitRetries?: number
}

/** What the client needs from a connection: its token, a way to renew it, and where to call. */
export interface ApiTarget {
  providerName: string
  apiUrl: string
  allowedOrigins: string[]
  placeholderStyle: 'at' | 'braces'
  headers: Record<string, string>
  accessToken(): Promise<string>
  /** The header that carries the token (default `authorization: Bearer <token>`; API keys differ). */
  credential?(token: string): { name: string; value: string }
  /** Renews after the provider refused `rejected`; resolves to the token to retry with. */
  renewAfterRejection(rejected: string): Promise<string>
  now(): number
  maxRetryAfterMs: number
  sleep(ms: number): Promise<void>
  /** Whole-request timeout in ms (default 30 s): headers and body. */
  timeoutMs?: number
  /** Largest answer body in bytes (default 16 MiB). */
  maxResponseBytes?: number
}

export async function authenticatedFetch(
  target: ApiTarget,
  path: string,
  init: ApiRequestInit = {},
): Promise<Response> {
  const { json, params, query, auth = true, rateLimitRetries = 2, ...rest } = init
  const url = resolveRequestUrl(path, {
    apiUrl: target.apiUrl,
    allowedOrigins: target.allowedOrigins,
    params,
    query,
    placeholderStyle: target.placeholderStyle,
  })
  const headers = new Headers(target.headers)
  for (const [key, value] of new Headers(rest.headers)) headers.set(key, value)
  let body = rest.body ?? undefined
  if (json !== undefined) {
    body = JSON.stringify(json)
    headers.set('content-type', 'application/json')
  }
  const method = (rest.method ?? 'GET').toUpperCase()
  const timeoutMs = target.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const limit = target.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  const what = `${method} ${url.pathname}`

  const send = async (token: string | undefined) => {
    if (token) {
      const credential = target.credential?.(token) ?? { name: 'authorization', value: `Bearer ${token}` }
      headers.set(credential.name, credential.value)
    }
    // Headers and body: the deadline ends when the body has been read (see `limitResponse`).
    const deadline = requestDeadline(timeoutMs)
    const signal = rest.signal ? AbortSignal.any([rest.signal, deadline.signal]) : deadline.signal
    const response = await fetch(url, {
      ...rest,
      method,
      headers,
      body,
      redirect: rest.redirect ?? 'manual',
      signal,
    }).catch((error: unknown) => {
      deadline.done()
      if (deadline.signal.aborted && isTimeout(error))
        throw timeoutError(target.providerName, what, timeoutMs)
      throw new InnkeeperError(
        'provider_unavailable',
        `${target.providerName} could not be reached for ${method} ${url.pathname}. Check the network and try again.`,
        {
          cause: new Error((error as { cause?: { code?: string } })?.cause?.code ?? 'network error'),
        },
      )
    })
    return limitResponse(
      response,
      limit,
      () => tooLargeError(target.providerName, what, limit),
      deadline.done,
    )
  }

  let token = auth ? await target.accessToken() : undefined
  let response = await send(token)
  if (response.status === 401 && token) {
    await response.body?.cancel()
    token = await target.renewAfterRejection(token)
    response = await send(token)
  }
  for (let waited = 0; response.status === 429 && waited < rateLimitRetries; waited++) {
    const seconds = parseRetryAfter(response.headers.get('retry-after'), target.now()) ?? 1
    if (seconds * 1000 > target.maxRetryAfterMs) break
    await response.body?.cancel()
    await target.sleep(seconds * 1000)
    response = await send(token)
  }
  if (response.status === 401 || response.status === 429)
    throw await describeFailure(target, response, method, url, token)
  if (response.status === 403) {
    // Only a missing scope is ours to explain; other 403s (another channel's property) are the caller's.
    const error = await describeFailure(target, response.clone(), method, url, token)
    if (error.code === 'insufficient_scope') throw error
  }
  return response
}

async function describeFailure(
  target: ApiTarget,
  response: Response,
  method: string,
  url: URL,
  token?: string,
): Promise<ApiError> {
  const body = await readBody(response, 64 * 1024)
  return apiError(response, body.json, body.text, {
    provider: target.providerName,
    method,
    path: url.pathname,
    secrets: [token],
    now: target.now(),
  })
}

/** Reads a JSON answer, throwing a typed error for any non-2xx status, a timeout or a body too large. */
export async function readJson<T>(
  response: Response,
  target: { providerName: string; timeoutMs?: number; maxResponseBytes?: number },
  method: string,
  url: string,
): Promise<T> {
  const what = `${method} ${new URL(url).pathname}`
  const limit = target.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  let body: Awaited<ReturnType<typeof readBody>>
  try {
    body = await readBody(response, limit)
  } catch (error) {
    if (isInnkeeperError(error)) throw error
    if (isTimeout(error))
      throw timeoutError(target.providerName, what, target.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
    throw new InnkeeperError(
      'provider_unavailable',
      `${target.providerName} dropped the connection while answering ${what}. Try again.`,
    )
  }
  if (body.truncated) throw tooLargeError(target.providerName, what, limit)
  if (!response.ok) {
    throw apiError(response, body.json, body.text, {
      provider: target.providerName,
      method,
      path: new URL(url).pathname,
      secrets: [],
      now: Date.now(),
    })
  }
  if (!body.text) return undefined as T
  try {
    return JSON.parse(body.text) as T
  } catch {
    throw new ApiError(
      'invalid_response',
      `${target.providerName} answered ${method} ${new URL(url).pathname} with something that is not JSON.`,
      {
        status: response.status,
      },
    )
  }
}
