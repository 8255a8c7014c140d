// The token endpoint shared by every emulator: parameters from the form (and, as Doorkeeper
// accepts, the query string), client authentication, RFC 6749 §5.2 errors, `Cache-Control:
// no-store`, injected faults, and a per-platform table of grant handlers that shape the answer.
import type { FastifyInstance } from 'fastify'
import type { EmulatorClient } from './clients.js'
import type { EmulatorCore } from './core.js'
import { dropConnection, latencyFor, sendFault, takeTokenFault } from './faults.js'
import { OAuthError } from './oauth-error.js'

export interface GrantRequest {
  params: Record<string, string>
  client: EmulatorClient
  core: EmulatorCore
}

export interface GrantHandler {
  /** false: a confidential client may send only its id (bookingtime's refresh step). */
  secretRequired: boolean
  /**
   * The request must carry the client id alone: a client secret (in the form or as Basic
   * credentials) is refused (bookingtime's refresh-token exchange, as the platform's documentation spells it).
   */
  secretRefused?: boolean
  /** Checks, commits and returns the JSON answer; throws OAuthError to refuse. */
  issue(request: GrantRequest): Record<string, unknown>
}

export type GrantTable = Partial<Record<string, GrantHandler>>

function stringParams(...sources: unknown[]): Record<string, string> {
  const params: Record<string, string> = {}
  for (const source of sources) {
    if (!source || typeof source !== 'object') continue
    for (const [key, value] of Object.entries(source)) {
      if (typeof value === 'string') params[key] = value
      else if (Array.isArray(value))
        throw new OAuthError('invalid_request', `The ${key} parameter is repeated.`)
    }
  }
  return params
}

/** The client a token request names (form or Basic credentials), for the per-client rate limit. */
function requestClientId(params: Record<string, string>, authorization: string | undefined): string {
  if (params.client_id) return params.client_id
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return decodeURIComponent(colon >= 0 ? decoded.slice(0, colon) : decoded)
  }
  return ''
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function registerTokenEndpoint(
  app: FastifyInstance,
  path: string,
  core: EmulatorCore,
  grants: GrantTable,
): void {
  app.post(path, { config: { kind: 'token' } }, async (request, reply) => {
    const { stats } = core
    stats.tokenRequestStarted()
    try {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      let params: Record<string, string>
      try {
        params = stringParams(request.query, request.body)
      } catch (error) {
        stats.countTokenRequest('invalid')
        throw error
      }
      const grantType = params.grant_type
      stats.countTokenRequest(grantType ?? 'missing')
      const fault = takeTokenFault(core, grantType, requestClientId(params, request.headers.authorization))
      const delay = latencyFor(core)
      if (delay > 0) await sleep(delay)
      if (sendFault(reply, fault)) return reply
      if (fault.kind === 'drop' && !fault.afterCommit) {
        dropConnection(request, reply)
        return reply
      }
      if (!grantType) throw new OAuthError('invalid_request', 'The grant_type parameter is missing.')
      const handler = grants[grantType]
      if (!handler) {
        throw new OAuthError(
          'unsupported_grant_type',
          `The grant type "${grantType}" is not supported here. Supported: ${Object.keys(grants).join(', ')}.`,
        )
      }
      stats.recordTokenRequestFields(grantType, [
        ...Object.keys(params),
        ...(request.headers.authorization ? ['authorization'] : []),
      ])
      const client = core.clients.authenticate(params, request.headers.authorization, {
        secretRequired: handler.secretRequired,
        secretRefused: handler.secretRefused,
      })
      const body = handler.issue({ params, client, core })
      stats.tokensIssued += 1
      if (fault.kind === 'drop') {
        dropConnection(request, reply)
        return reply
      }
      const reported = core.config.expiresInAnswer
      if (reported !== null) {
        if ('expires' in body) body.expires = reported
        else body.expires_in = reported
      }
      if (core.config.truncateNextTokenResponses.count > 0) {
        core.config.truncateNextTokenResponses.count -= 1
        const text = JSON.stringify(body)
        return reply
          .code(200)
          .type('application/json')
          .send(text.slice(0, Math.floor(text.length / 2)))
      }
      return reply.code(200).send(body)
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error
      stats.countTokenError(error.error)
      return reply.code(error.status).headers(error.headers).send(error.toBody())
    } finally {
      stats.tokenRequestEnded()
    }
  })
}

/** Splits a space-separated scope parameter (RFC 6749 §3.3). */
export function parseScope(value: string | undefined): string[] {
  return (value ?? '').split(' ').filter((scope) => scope.length > 0)
}

/** RFC 7009: 200 once the client is authenticated, whether the token was known or not. */
export function registerRevocationEndpoint(app: FastifyInstance, path: string, core: EmulatorCore): void {
  app.post(path, { config: { kind: 'token' } }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    try {
      const params = stringParams(request.body)
      const client = core.clients.authenticate(params, request.headers.authorization, {
        secretRequired: true,
      })
      if (!params.token) throw new OAuthError('invalid_request', 'The token parameter is missing.')
      core.authority.revokeToken(client.id, params.token)
      return reply.send({})
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error
      return reply.code(error.status).headers(error.headers).send(error.toBody())
    }
  })
}
