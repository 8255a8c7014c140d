// bookingtime (docs/platforms/bookingtime.md): client credentials (and the authorization code flow) answer with only
// a 30-day refresh JWT; client_id + refresh_token + organization_id (a secret is refused) answers a 5-minute
// access JWT whose `expires_in` is a string. App API under `/app/v3`, Module API under
// `/module/v3` for a public client whose secret is empty or omitted.
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BEARER_FAILURE_DESCRIPTION, bearerChallenge, checkBearer } from './api-auth.js'
import { type AuthorizationPolicy, registerConsentPage } from './consent-page.js'
import { registerControlApi } from './control.js'
import { EmulatorCore } from './core.js'
import { buildHandle } from './handle.js'
import { createEmulatorApp, listenOnLoopback } from './http-app.js'
import { OAuthError } from './oauth-error.js'
import type { AccessTokenRecord, FamilyRecord } from './oauth-server.js'
import { defineEmulatedPlatform, type EmulatorHandle, type EmulatorOptions } from './platform.js'
import { registerTokenEndpoint } from './token-endpoint.js'
import { JwtSigner } from './tokens.js'

interface Organization {
  id: string
  customId: number
  name: string
  customers: Array<{ id: string; firstName: string; lastName: string }>
}

const LANGUAGE = /^[a-z]{2}$/

function organizationView(organization: Organization) {
  return {
    class: 'ORGANIZATION',
    id: organization.id,
    customId: organization.customId,
    timestampAdd: '2024-02-04T08:00:00.000Z',
    timestampEdit: '2024-02-04T08:00:00.000Z',
    name: organization.name,
    rootOrganizationFlag: true,
    description: {
      value: 'An organization served by the Innkeeper emulator.',
      inheritance: 'OFF',
      result: 'An organization served by the Innkeeper emulator.',
    },
  }
}

export async function startBookingtimeEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const signer = new JwtSigner()
  let issuer = 'http://127.0.0.1'
  const demoOrganizationId = `f6${randomBytes(15).toString('hex')}`
  const organizations = new Map<string, Organization>()
  for (const [index, id] of [demoOrganizationId, ...(options.organizationIds ?? [])].entries()) {
    organizations.set(id, {
      id,
      customId: 123456 + index,
      name: index === 0 ? 'Demo Organization' : `Organization ${index + 1}`,
      customers: [],
    })
  }
  const seconds = (ms: number) => Math.floor(ms / 1000)

  const core: EmulatorCore = new EmulatorCore({
    platform: 'bookingtime',
    defaults: {
      accessTokenTtl: 300,
      refreshTokenTtl: 2_592_000,
      rotateRefreshTokens: false,
      reuseDetection: false,
    },
    minter: {
      accessToken: ({ family, issuedAtMs, expiresAtMs, organizationId }) =>
        signer.sign({
          iss: issuer,
          aud: core.clients.get(family.clientId)?.kind ?? 'app',
          sub: family.clientId,
          org: organizationId,
          typ: 'access',
          iat: seconds(issuedAtMs),
          exp: seconds(expiresAtMs),
          jti: randomUUID(),
        }),
      refreshToken: ({ family, issuedAtMs, expiresAtMs }) =>
        signer.sign({
          iss: issuer,
          sub: family.clientId,
          org: family.organizationId ?? demoOrganizationId,
          typ: 'refresh',
          iat: seconds(issuedAtMs),
          ...(expiresAtMs === null ? {} : { exp: seconds(expiresAtMs) }),
          jti: randomUUID(),
        }),
    },
    options,
  })
  const moduleClient = core.clients.register({
    id: `bookingtime-module-${randomBytes(6).toString('hex')}`,
    secret: null,
    redirectUris: [],
    allowLoopbackRedirects: true,
    kind: 'module',
  })
  const policy: AuthorizationPolicy = {
    platformName: 'bookingtime',
    grantScopes: (requested) => [...new Set(requested)],
    defaultOrganizationId: demoOrganizationId,
  }
  const secondsLeft = (expiresAtMs: number | null) =>
    expiresAtMs === null ? 0 : Math.max(0, Math.round((expiresAtMs - core.clock.nowMs()) / 1000))
  const refreshTokenAnswer = (family: FamilyRecord) => {
    const refresh = core.authority.issueRefreshToken(family)
    return {
      refresh_token: refresh.token,
      token_type: 'Bearer',
      expires_in: secondsLeft(refresh.expiresAtMs),
    }
  }

  const app = await createEmulatorApp(core)
  registerTokenEndpoint(app, '/oauth/token', core, {
    client_credentials: {
      secretRequired: true,
      issue: ({ client }) =>
        refreshTokenAnswer(
          core.authority.startFamily({
            clientId: client.id,
            scope: [],
            redirectUri: null,
            organizationId: null,
            origin: 'client_credentials',
          }),
        ),
    },
    authorization_code: {
      secretRequired: true,
      issue: ({ params, client }) =>
        refreshTokenAnswer(
          core.authority.redeemCode(client.id, params.code, params.redirect_uri, params.code_verifier),
        ),
    },
    refresh_token: {
      // The documented exchange sends client_id, refresh_token and organization_id "and nothing
      // else". Refusing a secret here is our assumption (the platform's documentation shows, it does not say it
      // refuses): it keeps the client from spending the secret where it is not asked for.
      secretRequired: false,
      secretRefused: true,
      issue: ({ params, client }) => {
        const organizationId = params.organization_id
        const outcome = core.authority.refresh(client.id, params.refresh_token, () => {
          if (!organizationId)
            throw new OAuthError('invalid_request', 'The organization_id parameter is missing.')
          if (!organizations.has(organizationId)) {
            throw new OAuthError('invalid_grant', 'The app is not permitted to access this organization.')
          }
        })
        const ttl = core.accessTokenTtl('refresh_token')
        const access = outcome.replay
          ? core.authority.currentOrNewAccessToken(outcome.family, ttl, organizationId ?? null)
          : core.authority.issueAccessToken(outcome.family, ttl, organizationId ?? null)
        return {
          access_token: access.token,
          token_type: 'Bearer',
          // The platform's documentation: "expires_in": "<time in s>", a string.
          expires_in: String(secondsLeft(access.expiresAtMs)),
          ...(core.config.rotateRefreshTokens ? { refresh_token: outcome.refreshToken.token } : {}),
        }
      },
    },
  })
  registerConsentPage(app, core, policy)
  registerControlApi(app, core, policy)

  const unauthorized = (reply: FastifyReply, reason: keyof typeof BEARER_FAILURE_DESCRIPTION) => {
    const description = BEARER_FAILURE_DESCRIPTION[reason]
    return reply
      .code(401)
      .header(
        'www-authenticate',
        bearerChallenge([
          ['error', 'invalid_token'],
          ['error_description', description],
        ]),
      )
      .send({ error: 'invalid_token', error_description: description })
  }
  const forbidden = (reply: FastifyReply, description: string) =>
    reply.code(403).send({ error: 'forbidden', error_description: description })
  const api = { config: { kind: 'api' as const } }
  type OrgParams = { lang: string; organizationId: string }
  /** Checks the token is an access token of the right API (app or module) for this organization. */
  const guarded =
    (
      audience: 'app' | 'module',
      answer: (organization: Organization, request: FastifyRequest, token: AccessTokenRecord) => unknown,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const check = checkBearer(core, request)
      if (!check.ok) return unauthorized(reply, check.reason)
      const { lang, organizationId } = request.params as OrgParams
      if (!LANGUAGE.test(lang))
        return reply.code(404).send({ error: 'not_found', error_description: 'Unknown language.' })
      if ((core.clients.get(check.token.clientId)?.kind ?? 'app') !== audience) {
        return forbidden(
          reply,
          `This access token is not valid for the ${audience === 'app' ? 'App' : 'Module'} API.`,
        )
      }
      if (check.token.organizationId !== organizationId) {
        return forbidden(reply, 'This access token was issued for another organization.')
      }
      const organization = organizations.get(organizationId)
      if (!organization)
        return reply.code(404).send({ error: 'not_found', error_description: 'Unknown organization.' })
      return answer(organization, request, check.token)
    }

  app.get('/app/v3/:lang/organization/:organizationId/show', api, guarded('app', organizationView))
  app.get(
    '/app/v3/:lang/organization/:organizationId/customer/list',
    api,
    guarded('app', (organization) =>
      organization.customers.map((customer) => ({
        class: 'CUSTOMER_SHORT',
        customId: '',
        ...customer,
        organizationId: organization.id,
      })),
    ),
  )
  app.post('/app/v3/:lang/organization/:organizationId/customer/add', api, async (request, reply) =>
    guarded('app', (organization) => {
      const body = (request.body ?? {}) as Record<string, unknown>
      if (typeof body.firstName !== 'string' || typeof body.lastName !== 'string' || !body.lastName) {
        return reply.code(422).send({
          error: 'validation_failed',
          error_description: 'firstName and lastName are required strings.',
        })
      }
      const customer = {
        id: `d3${randomBytes(15).toString('hex')}`,
        firstName: body.firstName,
        lastName: body.lastName,
      }
      organization.customers.push(customer)
      return reply
        .code(201)
        .send({ class: 'CUSTOMER_SHORT', customId: '', ...customer, organizationId: organization.id })
    })(request, reply),
  )
  app.get('/module/v3/:lang/organization/:organizationId/show', api, guarded('module', organizationView))

  const origin = await listenOnLoopback(app, options.host ?? '127.0.0.1', options.port ?? 0)
  issuer = origin
  core.info = {
    authorizeUrl: `${origin}/oauth/authorize`,
    tokenUrl: `${origin}/oauth/token`,
    apiUrl: `${origin}/app/v3`,
    moduleApiUrl: `${origin}/module/v3`,
    adminUrl: `${origin}/__admin`,
    clientId: core.defaultClient.id,
    clientSecret: core.defaultClient.secret ?? '',
    organizationId: demoOrganizationId,
    moduleClientId: moduleClient.id,
    moduleClientSecret: '',
  }
  return buildHandle(core, [app], policy)
}

/** The bookingtime platform: what `innkeeper emulate`, `startEmulator` and the demos read. */
export const bookingtimePlatform = defineEmulatedPlatform({
  name: 'bookingtime',
  label: 'bookingtime',
  aliases: [],
  ports: 1,
  start: startBookingtimeEmulator,
  demo: (info) => ({
    app: 'bookingtime',
    flow: 'client credentials, then an organization token (two steps)',
    connect: 'direct',
    connectOptions: { organizationId: info.organizationId ?? '' },
    request: {
      path: '/de/organization/{organizationId}/show',
      params: { organizationId: info.organizationId ?? '' },
      label: 'organization',
      pick: 'name',
    },
  }),
})
