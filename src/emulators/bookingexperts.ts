// Booking Experts (docs/platforms/bookingexperts.md): two servers like production, the app host (authorize, token,
// revoke, control API) and the API host (its own `/oauth/token` too, and JSON:API under `/v3`).
// One-week tokens from the code, a refresh answer that says `expires: 3600`, and a 401 that
// carries `WWW-Authenticate: Bearer error="invalid_token" error_description="…"` plus JSON.
// Organizations install the app (one subscription per organization and app, the same however
// often it installs) and may also call the API with an organization's API key (`X-API-KEY`),
// which sees only that organization's administrations.
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BEARER_FAILURE_DESCRIPTION, bearerChallenge, checkBearer } from './api-auth.js'
import { type AuthorizationPolicy, registerConsentPage } from './consent-page.js'
import { ADMIN_PREFIX, registerControlApi } from './control.js'
import { EmulatorCore } from './core.js'
import { buildHandle } from './handle.js'
import { createEmulatorApp, listenOnLoopback } from './http-app.js'
import type { FamilyRecord } from './oauth-server.js'
import { defineEmulatedPlatform, type EmulatorHandle, type EmulatorOptions } from './platform.js'
import { type GrantTable, registerRevocationEndpoint, registerTokenEndpoint } from './token-endpoint.js'
import { opaqueBase64UrlToken } from './tokens.js'

/** What a token gets when the authorization asked for no scope (the documented answer says `create`). */
const DEFAULT_SCOPE = ['create']
const JSON_API = 'application/vnd.api+json'

interface Administration {
  id: string
  type: 'administration'
  attributes: { name: string; currency: string }
}

/** The demo organization: installs and the ready API key belong to it unless told otherwise. */
const DEMO_ORGANIZATION = '1'

const DEMO_ADMINISTRATIONS: Administration[] = [
  { id: '1001', type: 'administration', attributes: { name: 'Camping De Emulator', currency: 'EUR' } },
  { id: '1002', type: 'administration', attributes: { name: 'Bungalowpark Loopback', currency: 'EUR' } },
]

/** The organization's administrations: the demo one has two, each further one has one of its own. */
function organizationsFrom(extra: string[]): Map<string, Administration[]> {
  const organizations = new Map<string, Administration[]>([[DEMO_ORGANIZATION, DEMO_ADMINISTRATIONS]])
  for (const [index, id] of extra.entries()) {
    if (organizations.has(id)) continue
    organizations.set(id, [
      {
        id: String(2001 + index),
        type: 'administration',
        attributes: { name: `Vakantiepark ${id}`, currency: 'EUR' },
      },
    ])
  }
  return organizations
}

/** One subscription per (app, organization): installing again answers the same id. */
function subscriptionId(clientId: string, organizationId: string): string {
  return createHash('sha256').update(`${clientId}\n${organizationId}`).digest('hex').slice(0, 12)
}

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
  const organizations = organizationsFrom(options.organizationIds ?? [])
  /** API key → the organization it is registered to. */
  const apiKeys = new Map<string, string>()
  const registerApiKey = (organizationId: string) => {
    const key = randomBytes(24).toString('base64url')
    apiKeys.set(key, organizationId)
    return key
  }
  const demoApiKey = registerApiKey(DEMO_ORGANIZATION)
  const policy: AuthorizationPolicy = {
    platformName: 'Booking Experts',
    grantScopes: (requested) => (requested.length > 0 ? [...new Set(requested)] : DEFAULT_SCOPE),
    defaultOrganizationId: DEMO_ORGANIZATION,
    knowsOrganization: (id) => organizations.has(id),
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
        // The documented refresh answer: `expires`, not `expires_in`, and no scope.
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
  /** The public docs' answer to a wrong API key: 401 with a JSON:API error document. */
  const wrongApiKey = (reply: FastifyReply) =>
    reply
      .code(401)
      .type(JSON_API)
      .send({
        errors: [
          {
            status: 401,
            code: 'UNAUTHORIZED',
            title: 'Unauthorized error',
            detail: 'The API key is wrong or was revoked',
          },
        ],
      })
  const notFound = (reply: FastifyReply) =>
    reply
      .code(404)
      .type(JSON_API)
      .send({ errors: [{ status: 404, code: 'RESOURCE_NOT_FOUND', title: 'Not found' }] })

  /** Who calls: an OAuth token (its subscription's organization) or an organization's API key. */
  type Caller =
    | { kind: 'oauth'; organizationId: string; family: FamilyRecord; scope: string[] }
    | { kind: 'api_key'; organizationId: string }
  const api = { config: { kind: 'api' as const } }
  const guarded =
    (
      needs: string | null,
      answer: (caller: Caller, params: Record<string, string>, reply: FastifyReply) => unknown,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      let caller: Caller
      const key = request.headers['x-api-key']
      if (!request.headers.authorization && typeof key === 'string') {
        const organizationId = apiKeys.get(key)
        if (!organizationId) return wrongApiKey(reply)
        // An API key is not scoped: it reaches everything of its own organization.
        caller = { kind: 'api_key', organizationId }
      } else {
        const check = checkBearer(core, request)
        if (!check.ok) return unauthorized(reply, check.reason)
        caller = {
          kind: 'oauth',
          organizationId: check.family.organizationId ?? DEMO_ORGANIZATION,
          family: check.family,
          scope: check.token.scope,
        }
      }
      if (needs && caller.kind === 'oauth' && !caller.scope.includes(needs)) {
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
      const body = answer(caller, request.params as Record<string, string>, reply)
      if (body === reply) return reply
      if (body === null) return notFound(reply)
      return reply.type(JSON_API).send(body)
    }
  const administrationsOf = (caller: Caller) => organizations.get(caller.organizationId) ?? []

  let appOrigin = ''
  apiHost.get(
    '/v3/subscription',
    api,
    guarded(null, (caller, _params, reply) => {
      // A subscription is an app installed by an organization; an API key belongs to no app.
      if (caller.kind !== 'oauth') {
        return reply
          .code(403)
          .type(JSON_API)
          .send({
            errors: [
              {
                status: 403,
                code: 'FORBIDDEN',
                title: 'Forbidden',
                detail: 'Only an app installed through OAuth has a subscription',
              },
            ],
          })
      }
      const { family, organizationId } = caller
      return {
        data: {
          id: subscriptionId(family.clientId, organizationId),
          type: 'subscription',
          attributes: {
            return_url: `${appOrigin}/organizations/${encodeURIComponent(organizationId)}/app_store/apps/${encodeURIComponent(family.clientId)}`,
            created_at: new Date(family.createdAtMs).toISOString(),
          },
          relationships: {
            administrations: {
              data: administrationsOf(caller).map(({ id, type }) => ({ id, type })),
            },
          },
        },
      }
    }),
  )
  apiHost.get(
    '/v3/administrations',
    api,
    guarded(null, (caller) => ({ data: administrationsOf(caller), links: {}, meta: {} })),
  )
  apiHost.get(
    '/v3/administrations/:id',
    api,
    guarded(null, (caller, { id }) => {
      // Another organization's administration does not exist for this caller.
      const found = administrationsOf(caller).find((administration) => administration.id === id)
      return found ? { data: found } : null
    }),
  )
  apiHost.get(
    '/v3/administrations/:id/reservations',
    api,
    guarded('reservations_read', (caller, { id }) =>
      administrationsOf(caller).some((administration) => administration.id === id)
        ? { data: RESERVATIONS, links: {}, meta: {} }
        : null,
    ),
  )
  registerControlApi(appHost, core, policy)
  appHost.post(`${ADMIN_PREFIX}/api-keys`, { config: { kind: 'admin' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const organizationId = typeof body.organizationId === 'string' ? body.organizationId : DEMO_ORGANIZATION
    if (!organizations.has(organizationId)) {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description: `Unknown organization ${organizationId}; known: ${[...organizations.keys()].join(', ')}.`,
      })
    }
    return { apiKey: registerApiKey(organizationId), organizationId }
  })
  // The owner revoking a key on the platform: every later call with it is the wrong-key 401.
  appHost.post(`${ADMIN_PREFIX}/api-keys/revoke`, { config: { kind: 'admin' } }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    return { revoked: typeof body.apiKey === 'string' && apiKeys.delete(body.apiKey) }
  })

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
      organizationId: DEMO_ORGANIZATION,
      apiKey: demoApiKey,
    }
  } catch (error) {
    await Promise.all([appHost.close(), apiHost.close()])
    throw error
  }
  return buildHandle(core, [appHost, apiHost], policy)
}

/** The bookingexperts platform: what `innkeeper emulate`, `startEmulator` and the demos read. */
export const bookingexpertsPlatform = defineEmulatedPlatform({
  name: 'bookingexperts',
  label: 'Booking Experts',
  aliases: ['booking-experts'],
  // The app host, then the API host.
  ports: 2,
  start: startBookingExpertsEmulator,
  demo: () => ({
    app: 'experts',
    flow: 'authorization code with a redirect back, then the subscription is kept',
    connect: 'redirect',
    callbackPath: '/booking_experts/oauth_callback',
    metadata: ['subscriptionId', 'administrationIds'],
  }),
})
