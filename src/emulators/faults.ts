// Injected faults for the next N requests: 429 with Retry-After, a 5xx, or a connection dropped
// before or after the token request is committed (the lost-response case). Counters are taken
// synchronously on arrival, so N concurrent requests see exactly N faults. Also the standing
// ones: a per-client token rate limit (`tokenRequestsPerSecond`) and latency with jitter.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { EmulatorCore } from './core.js'

/** Accepted token requests per client in the current one-second window, per emulator. */
const windows = new WeakMap<EmulatorCore, Map<string, { second: number; accepted: number }>>()

/**
 * The per-client token rate limit: a 429 plan when `clientId` already had
 * `tokenRequestsPerSecond` requests accepted in this (real-time) second, else none, counting it.
 */
function takeRateLimit(core: EmulatorCore, clientId: string): FaultPlan | undefined {
  const limit = core.config.tokenRequestsPerSecond
  if (limit <= 0) return undefined
  let perClient = windows.get(core)
  if (!perClient) {
    perClient = new Map()
    windows.set(core, perClient)
  }
  const now = Date.now()
  const second = Math.floor(now / 1000)
  const window = perClient.get(clientId)
  if (!window || window.second !== second) {
    perClient.set(clientId, { second, accepted: 1 })
    return undefined
  }
  if (window.accepted < limit) {
    window.accepted += 1
    return undefined
  }
  core.stats.injected.rateLimited += 1
  core.stats.overRateLimit += 1
  return { kind: 'rateLimit', retryAfter: Math.max(1, Math.ceil(((second + 1) * 1000 - now) / 1000)) }
}

/** How long this request waits: `latencyMs` ± `latencyJitterMs`, never below 0. */
export function latencyFor(core: EmulatorCore): number {
  const { latencyMs, latencyJitterMs } = core.config
  if (latencyJitterMs <= 0) return latencyMs
  return Math.max(0, latencyMs + (Math.random() * 2 - 1) * latencyJitterMs)
}

export type FaultPlan =
  | { kind: 'none' }
  | { kind: 'rateLimit'; retryAfter: number }
  | { kind: 'fail'; status: number; body: 'json' | 'html' }
  | { kind: 'drop'; afterCommit: boolean }

export function takeTokenFault(core: EmulatorCore, grantType: string | undefined, clientId = ''): FaultPlan {
  const { config, stats } = core
  const limited = takeRateLimit(core, clientId)
  if (limited) return limited
  if (config.rateLimitNext.count > 0) {
    config.rateLimitNext.count -= 1
    stats.injected.rateLimited += 1
    return { kind: 'rateLimit', retryAfter: config.rateLimitNext.retryAfter }
  }
  const failOnly = config.failNextTokenRequests.grantType
  if (config.failNextTokenRequests.count > 0 && (failOnly === undefined || failOnly === grantType)) {
    config.failNextTokenRequests.count -= 1
    stats.injected.failures += 1
    return {
      kind: 'fail',
      status: config.failNextTokenRequests.status,
      body: config.failNextTokenRequests.body,
    }
  }
  if (config.dropNextTokenResponses.count > 0) {
    config.dropNextTokenResponses.count -= 1
    const { afterCommit } = config.dropNextTokenResponses
    if (afterCommit) stats.injected.dropsAfterCommit += 1
    else stats.injected.drops += 1
    return { kind: 'drop', afterCommit }
  }
  return { kind: 'none' }
}

export function takeApiFault(core: EmulatorCore): FaultPlan {
  const { config, stats } = core
  if (config.rateLimitNextApiRequests.count > 0) {
    config.rateLimitNextApiRequests.count -= 1
    stats.injected.rateLimited += 1
    return { kind: 'rateLimit', retryAfter: config.rateLimitNextApiRequests.retryAfter }
  }
  if (config.failNextApiRequests.count > 0) {
    config.failNextApiRequests.count -= 1
    stats.injected.failures += 1
    return { kind: 'fail', status: config.failNextApiRequests.status, body: config.failNextApiRequests.body }
  }
  return { kind: 'none' }
}

const GATEWAY_PAGE = (status: number) =>
  `<html><head><title>${status} Service Unavailable</title></head><body><h1>${status}</h1><p>The server is temporarily unable to service your request.</p></body></html>\n`

/** Answers a 429 or 5xx plan. Returns false for plans that are not an answer. */
export function sendFault(reply: FastifyReply, plan: FaultPlan): boolean {
  if (plan.kind === 'rateLimit') {
    reply
      .code(429)
      .header('retry-after', String(plan.retryAfter))
      .header('cache-control', 'no-store')
      .send({ error: 'rate_limited', error_description: 'Too many requests. Retry later.' })
    return true
  }
  if (plan.kind === 'fail') {
    reply.code(plan.status).header('cache-control', 'no-store')
    if (plan.body === 'html') reply.type('text/html; charset=utf-8').send(GATEWAY_PAGE(plan.status))
    else
      reply.send({ error: 'server_error', error_description: 'The emulator was told to fail this request.' })
    return true
  }
  return false
}

/** Destroys the connection without an answer, as a network failure would. */
export function dropConnection(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack()
  request.raw.socket.destroy()
}
