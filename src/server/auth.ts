// The API-key check in front of `/api/*` and `/proxy/*`: `Authorization: Bearer <key>`,
// verified against hashes in constant time; 401 with a `WWW-Authenticate` challenge otherwise.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { bearerToken } from './api-keys.js'
import type { ServerContext } from './context.js'

/** The API key id each authenticated request came with (for the audit trail). */
const apiKeyIds = new WeakMap<FastifyRequest, string>()

export function apiKeyIdOf(request: FastifyRequest): string | undefined {
  return apiKeyIds.get(request)
}

export function requireApiKey(ctx: ServerContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = bearerToken(request.headers.authorization)
    const identity = presented ? await ctx.verifier.verify(presented) : null
    if (identity) {
      // The request's log line names the key (see logging.ts): no child logger per request.
      apiKeyIds.set(request, identity.id)
      return
    }
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="innkeeper"')
      .send({
        error: {
          code: 'unauthorized',
          message: presented
            ? 'This API key is not valid (revoked, mistyped, or from another installation).'
            : 'Send an API key: `Authorization: Bearer <key>`. Create one with `innkeeper keys create`.',
        },
      })
  }
}
