// What every route module receives: the library, API-key verification, metrics, and the
// operator settings (password, whether pages need a login, the public URL, cookie security).
import type { FastifyRequest } from 'fastify'
import type { Innkeeper } from '../index.js'
import type { ApiKeyVerifier } from './api-keys.js'
import type { ServerMetrics } from './metrics.js'
import { isLoopbackHost } from './session.js'

export interface ServerContext {
  keeper: Innkeeper
  verifier: ApiKeyVerifier
  metrics: ServerMetrics
  adminPassword: string | undefined
  /** Signs cookies, and binds password sessions to the password (see `passwordBinding`). */
  sessionSecret: string
  /** `none` opens the operator pages without a login (`serve --demo` on loopback only). */
  dashboardAuth: 'login' | 'none'
  /** Origins allowed to frame the connect page besides this server. */
  frameAncestors: string[]
  connectDefaults: Record<string, Record<string, string>>
  limits: { apiPerMinute: number; loginPerMinute: number }
  /** This server's origin as browsers see it, e.g. `https://innkeeper.example.com`. */
  publicUrl(request: FastifyRequest): string
  /** Secure cookies everywhere except plain-HTTP loopback. */
  secureCookies(request: FastifyRequest): boolean
}

export function makePublicUrl(configured: string | undefined): ServerContext['publicUrl'] {
  const fixed = configured?.replace(/\/+$/, '')
  return (request) => fixed ?? `${request.protocol}://${request.host}`
}

export function makeSecureCookies(configured: string | undefined): ServerContext['secureCookies'] {
  return (request) => {
    const url = new URL(makePublicUrl(configured)(request))
    return url.protocol === 'https:' || !isLoopbackHost(url.hostname)
  }
}

/** The callback URL to register on redirecting platforms. */
export function callbackUrl(ctx: ServerContext, request: FastifyRequest): string {
  return `${ctx.publicUrl(request)}/callback`
}
