// The control API under `/__admin` (unauthenticated: a loopback test tool): info, switches,
// clock, stats, families, revocation (the owner uninstalls the app), a client's new secret,
// approval and reset.
import type { FastifyInstance } from 'fastify'
import { ConfigPatchError } from './config.js'
import { type AuthorizationPolicy, approveDirectly } from './consent-page.js'
import type { EmulatorCore } from './core.js'
import { OAuthError } from './oauth-error.js'
import type { ApprovalRequest } from './platform.js'

export const ADMIN_PREFIX = '/__admin'

const admin = { config: { kind: 'admin' as const } }

export function registerControlApi(
  app: FastifyInstance,
  core: EmulatorCore,
  policy?: AuthorizationPolicy,
): void {
  const p = ADMIN_PREFIX
  app.get(p, admin, async () => core.info)
  app.get(`${p}/info`, admin, async () => core.info)
  app.get(`${p}/config`, admin, async () => core.config)
  app.post(`${p}/config`, admin, async (request, reply) => {
    try {
      return core.configure(request.body ?? {})
    } catch (error) {
      if (error instanceof ConfigPatchError) {
        return reply.code(400).send({ error: 'invalid_config', error_description: error.message })
      }
      throw error
    }
  })
  app.post(`${p}/advance`, admin, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const body = (request.body ?? {}) as Record<string, unknown>
    const seconds = Number(query.seconds ?? body.seconds)
    if (!Number.isFinite(seconds) || seconds < 0) {
      return reply
        .code(400)
        .send({ error: 'invalid_request', error_description: 'Give ?seconds=N with N >= 0.' })
    }
    core.clock.advance(seconds)
    return { advancedSeconds: core.clock.advancedSeconds, now: new Date(core.clock.nowMs()).toISOString() }
  })
  app.get(`${p}/stats`, admin, async () => core.snapshot())
  // The platform's side of "Periodically rotate your API credentials" (BookyFlow): the client
  // gets a new secret, and the old one is refused from then on.
  app.post(`${p}/clients/:id/secret`, admin, async (request, reply) => {
    const client = core.clients.get((request.params as { id: string }).id)
    const secret = ((request.body ?? {}) as Record<string, unknown>).secret
    if (!client) return reply.code(404).send({ error: 'not_found', error_description: 'No such client.' })
    if (typeof secret !== 'string' || secret === '') {
      return reply
        .code(400)
        .send({ error: 'invalid_request', error_description: 'Give {"secret": "…"}, a non-empty string.' })
    }
    core.clients.setSecret(client, secret)
    return { clientId: client.id }
  })
  app.get(`${p}/families`, admin, async () => ({ families: core.authority.listFamilies() }))
  app.post(`${p}/revoke-all`, admin, async () => ({ familiesRevoked: core.authority.revokeAll() }))
  app.post(`${p}/revoke`, admin, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const familyId =
      typeof body.familyId === 'string'
        ? body.familyId
        : typeof body.token === 'string'
          ? core.authority.familyOfToken(body.token)?.id
          : undefined
    if (!familyId) {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description: 'Give {"familyId": …} or {"token": …} of a known grant.',
      })
    }
    return { revoked: core.authority.revokeFamily(familyId, 'app uninstalled'), familyId }
  })
  app.post(`${p}/reset`, admin, async () => {
    core.reset()
    return { reset: true }
  })
  if (policy) {
    app.post(`${p}/approve`, admin, async (request, reply) => {
      try {
        return approveDirectly(core, policy, (request.body ?? {}) as ApprovalRequest)
      } catch (error) {
        if (error instanceof OAuthError) return reply.code(400).send(error.toBody())
        throw error
      }
    })
  }
}
