// Injected faults for the next N requests: 429 with Retry-After, a 5xx, or a connection dropped
// before or after the token request is committed (the lost-response case). Counters are taken
// synchronously on arrival, so N concurrent requests see exactly N faults.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { EmulatorCore } from './core.js'

export type FaultPlan =
  | { kind: 'none' }
  | { kind: 'rateLimit'; retryAfter: number }
  | { kind: 'fail'; status: number; body: 'json' | 'html' }
  | { kind: 'drop'; afterCommit: boolean }

export function takeTokenFault(core: EmulatorCore, grantType: string | undefined): FaultPlan {
  const { config, stats } = core
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
