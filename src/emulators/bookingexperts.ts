// Booking Experts (seed 002): two servers like production, the app host (authorize, token,
// revoke, control API) and the API host (its own `/oauth/token` too, and JSON:API under `/v3`).
// One-week tokens from the code, a refresh answer that says `expires: 3600`, and a 401 that
// carries `WWW-Authenticate: Bearer error="invalid_token" error_description="…"` plus JSON.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BEARER_FAILURE_DESCRIPTION, bearerChallenge, checkBearer } from './api-auth.js'
import { type AuthorizationPolicy, registerConsentPage } from './consent-page.js'
import { registerControlApi } from './control.js'
import { EmulatorCore } from './core.js'
import { buildHandle } from './handle.js'
import { createEmulatorApp, listenOnLoopback } from './http-app.js'
import type { FamilyRecord } from './oauth-server.js'
import { type GrantTable, registerRevocationEndpoint, registerTokenEndpoint } from './token-endpoint.js'
import { opaqueBase64UrlToken } from './tokens.js'
import type { EmulatorHandle, EmulatorOptions } from './types.js'

/** What a token gets when the authorization asked for no scope (the seed's answer says `create`). */
const DEFAULT_SCOPE = ['create']
const JSON_API = 'application/vnd.api+json'

const ADMINISTRATIONS = [
  { id: '1001', type: 'administration', attributes: { name: 'Camping De Emulator', currency: 'EUR' } },
  { id: '1002', type: 'administration', attributes: { name: 'Bungalowpark Loopback', currency: 'EUR' } },
]

const RESERVATIONS = [
  {
    id: '70001',
    type: 'reservation',
    attributes: { start_date: '2025-07-01', end_date: '2025-07-08', state: 'confirmed' },
  },
]

export async function startBookingExpertsEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const core = new EmulatorCore({
    platform: 'bookingexperts',
    defaults: {
      accessTokenTtl: 604_800,
      refreshedAccessTokenTtl: 3600,
      rotateRefreshTokens: true,
      reuseDetection: true,
    },
    minter: { accessToken: () => opaqueBase64UrlToken(), refreshToken: () => opaqueBase64UrlToken() },
    options,
  })
  const policy: AuthorizationPolicy = {
    platformName: 'Booking Experts',
    grantScopes: (requested) => (requested.length > 0 ? [...new Set(requested)] : DEFAULT_SCOPE),
  }
  const secondsLeft = (expiresAtMs: number) =>
    Math.max(0, Math.round((expiresAtMs - core.clock.nowMs()) / 1000))

  const grants: GrantTable = {
    authorization_code: {
      secretRequired: true,
      issue: ({ params, client }) => {
        const family = core.authority.redeemCode(
          client.id,
          params.code,
          params.redirect_uri,
          params.code_verifier,
        )
        const access = core.authority.issueAccessToken(family, core.accessTokenTtl('other'))
        return {
          access_token: access.token,
          token_type: 'Bearer',
          expires_in: secondsLeft(access.expiresAtMs),
          refresh_token: core.authority.issueRefreshToken(family).token,
          scope: family.scope.join(' '),
        }
      },
    },
    refresh_token: {
      secretRequired: true,
      issue: ({ params, client }) => {
        const outcome = core.authority.refresh(client.id, params.refresh_token)
        const ttl = core.accessTokenTtl('refresh_token')
        const access = outcome.replay
          ? core.authority.currentOrNewAccessToken(outcome.family, ttl)
          : core.authority.issueAccessToken(outcome.family, ttl)
        // The seed's refresh answer: `expires`, not `expires_in`, and no scope.
        return {
          access_token: access.token,
          refresh_token: outcome.refreshToken.token,
          token_type: 'Bearer',
          expires: secondsLeft(access.expiresAtMs),
        }
      },
    },
  }

  const appHost = await createEmulatorApp(core)
  registerTokenEndpoint(appHost, '/oauth/token', core, grants)
  registerRevocationEndpoint(appHost, '/oauth/revoke', core)
  registerConsentPage(appHost, core, policy)
  registerControlApi(appHost, core, policy)

  const apiHost = await createEmulatorApp(core)
  registerTokenEndpoint(apiHost, '/oauth/token', core, grants)

  const unauthorized = (reply: FastifyReply, reason: keyof typeof BEARER_FAILURE_DESCRIPTION) => {
    const description = BEARER_FAILURE_DESCRIPTION[reason]
    return reply
      .code(401)
      .header(
        'www-authenticate',
        bearerChallenge(
          [
            ['error', 'invalid_token'],
            ['error_description', description],
          ],
          ' ',
        ),
      )
      .type('application/json')
      .send({ error: 'invalid_token', error_description: description })
  }
  const api = { config: { kind: 'api' as const } }
  const guarded =
    (needs: string | null, answer: (family: FamilyRecord, params: Record<string, string>) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const check = checkBearer(core, request)
      if (!check.ok) return unauthorized(reply, check.reason)
      if (needs && !check.token.scope.includes(needs)) {
        return reply
          .code(403)
          .header(
            'www-authenticate',
            bearerChallenge(
              [
                ['error', 'insufficient_scope'],
                ['error_description', `The access token lacks the ${needs} scope`],
                ['scope', needs],
              ],
              ' ',
            ),
          )
          .type('application/json')
          .send({
            error: 'insufficient_scope',
            error_description: `The access token lacks the ${needs} scope`,
          })
      }
      const body = answer(check.family, request.params as Record<string, string>)
      if (body === null) {
        return reply
          .code(404)
          .type(JSON_API)
          .send({ errors: [{ status: '404', title: 'Not found' }] })
      }
      return reply.type(JSON_API).send(body)
    }

  let appOrigin = ''
  apiHost.get(
    '/v3/subscription',
    api,
    guarded(null, (family) => ({
      data: {
        id: `sub-${family.id.slice(4)}`,
        type: 'subscription',
        attributes: {
          return_url: `${appOrigin}/organizations/1/app_store/apps/${encodeURIComponent(family.clientId)}`,
          created_at: new Date(family.createdAtMs).toISOString(),
        },
        relationships: {
          administrations: { data: ADMINISTRATIONS.map(({ id, type }) => ({ id, type })) },
        },
      },
    })),
  )
  apiHost.get(
    '/v3/administrations',
    api,
    guarded(null, () => ({ data: ADMINISTRATIONS, links: {}, meta: {} })),
  )
  apiHost.get(
    '/v3/administrations/:id',
    api,
    guarded(null, (_family, { id }) => {
      const found = ADMINISTRATIONS.find((administration) => administration.id === id)
      return found ? { data: found } : null
    }),
  )
  apiHost.get(
    '/v3/administrations/:id/reservations',
    api,
    guarded('reservations_read', (_family, { id }) =>
      ADMINISTRATIONS.some((administration) => administration.id === id)
        ? { data: RESERVATIONS, links: {}, meta: {} }
        : null,
    ),
  )

  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  try {
    appOrigin = await listenOnLoopback(appHost, host, port)
    const apiOrigin = await listenOnLoopback(apiHost, host, options.apiPort ?? (port === 0 ? 0 : port + 1))
    core.info = {
      authorizeUrl: `${appOrigin}/oauth/authorize`,
      tokenUrl: `${appOrigin}/oauth/token`,
      revokeUrl: `${appOrigin}/oauth/revoke`,
      apiUrl: apiOrigin,
      appUrl: appOrigin,
      apiTokenUrl: `${apiOrigin}/oauth/token`,
      adminUrl: `${appOrigin}/__admin`,
      clientId: core.defaultClient.id,
      clientSecret: core.defaultClient.secret ?? '',
    }
  } catch (error) {
    await Promise.all([appHost.close(), apiHost.close()])
    throw error
  }
  return buildHandle(core, [appHost, apiHost], policy)
}
