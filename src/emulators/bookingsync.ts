// BookingSync / Smily (docs/platforms/bookingsync.md): Doorkeeper-style authorization code with
// the out-of-band page, 2-hour lower-case `bearer` tokens, a refresh token rotated on every
// refresh that must repeat the first step's redirect_uri, `public` always granted, client
// credentials for public-scope tokens, and `/api/v3` accounts, rentals, bookings. No revocation
// endpoint: "this authorization can only be revoked if the account owner uninstall[s] your
// application" (the control API's `/revoke-all` plays the owner).
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BEARER_FAILURE_DESCRIPTION, bearerChallenge, checkBearer } from './api-auth.js'
import type { AuthorizationPolicy } from './consent-page.js'
import { registerConsentPage } from './consent-page.js'
import { registerControlApi } from './control.js'
import { EmulatorCore } from './core.js'
import { buildHandle } from './handle.js'
import { createEmulatorApp, listenOnLoopback } from './http-app.js'
import { OAuthError } from './oauth-error.js'
import type { AccessTokenRecord, FamilyRecord, RefreshOutcome } from './oauth-server.js'
import { defineEmulatedPlatform, type EmulatorHandle, type EmulatorOptions } from './platform.js'
import { parseScope, registerTokenEndpoint } from './token-endpoint.js'
import { opaqueHexToken } from './tokens.js'

export const BOOKINGSYNC_SCOPES = [
  'public',
  'bookings_read',
  'bookings_write',
  'bookings_write_owned',
  'clients_read',
  'clients_write',
  'inquiries_read',
  'inquiries_write',
  'inquiries_write_owned',
  'payments_read',
  'payments_write',
  'payments_write_owned',
  'rates_read',
  'rates_write',
  'rentals_read',
  'rentals_write',
  'reviews_write',
] as const

/** `public` is always granted; an unknown scope is refused. */
function grantScopes(requested: string[]): string[] {
  const unknown = requested.filter((scope) => !(BOOKINGSYNC_SCOPES as readonly string[]).includes(scope))
  if (unknown.length > 0) {
    throw new OAuthError(
      'invalid_scope',
      `The requested scope is invalid, unknown, or malformed: ${unknown.join(' ')}.`,
    )
  }
  return ['public', ...new Set(requested.filter((scope) => scope !== 'public'))]
}

const ACCOUNT = {
  id: 1,
  business_name: 'Emulated Rentals Ltd',
  email: 'owner@example.test',
  status: 'active',
  default_locale: 'en',
  created_at: '2024-01-15T09:00:00Z',
  updated_at: '2024-06-01T12:00:00Z',
}

const RENTALS = [
  {
    id: 101,
    name: 'Sea View Apartment',
    headline: 'Steps from the beach',
    bedrooms_count: 2,
    sleeps: 4,
    currency: 'EUR',
    published: true,
  },
  {
    id: 102,
    name: 'Mountain Chalet',
    headline: 'Ski in, ski out',
    bedrooms_count: 4,
    sleeps: 8,
    currency: 'EUR',
    published: true,
  },
].map((rental) => ({ ...rental, links: { account: ACCOUNT.id }, created_at: '2024-02-01T10:00:00Z' }))

const BOOKINGS = [
  {
    id: 5001,
    start_at: '2025-07-01T16:00:00Z',
    end_at: '2025-07-08T10:00:00Z',
    status: 'Booked',
    adults: 2,
    children: 1,
    links: { account: 1, rental: 101 },
  },
]

const BOOKING_READ = ['bookings_read', 'bookings_write', 'bookings_write_owned']

export async function startBookingSyncEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const core = new EmulatorCore({
    platform: 'bookingsync',
    defaults: { accessTokenTtl: 7200, rotateRefreshTokens: true, reuseDetection: true },
    minter: { accessToken: () => opaqueHexToken(), refreshToken: () => opaqueHexToken() },
    options,
  })
  const policy: AuthorizationPolicy = { platformName: 'BookingSync', grantScopes }
  const app = await createEmulatorApp(core)

  const tokenAnswer = (access: AccessTokenRecord, family: FamilyRecord, refreshToken?: string) => ({
    access_token: access.token,
    token_type: 'bearer',
    expires_in: Math.max(0, Math.round((access.expiresAtMs - core.clock.nowMs()) / 1000)),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    scope: family.scope.join(' '),
  })

  registerTokenEndpoint(app, '/oauth/token', core, {
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
        return tokenAnswer(access, family, core.authority.issueRefreshToken(family).token)
      },
    },
    refresh_token: {
      secretRequired: true,
      issue: ({ params, client }) => {
        // "The refresh request must carry the same redirect_uri as the first step."
        const outcome: RefreshOutcome = core.authority.refresh(client.id, params.refresh_token, (family) => {
          if (family.redirectUri !== null && params.redirect_uri !== family.redirectUri) {
            throw new OAuthError(
              'invalid_grant',
              'The redirect_uri must be the one used to obtain the authorization code.',
            )
          }
        })
        const ttl = core.accessTokenTtl('refresh_token')
        const access = outcome.replay
          ? core.authority.currentOrNewAccessToken(outcome.family, ttl)
          : core.authority.issueAccessToken(outcome.family, ttl)
        return tokenAnswer(access, outcome.family, outcome.refreshToken.token)
      },
    },
    client_credentials: {
      secretRequired: true,
      issue: ({ params, client }) => {
        const scope = grantScopes(parseScope(params.scope))
        if (scope.length > 1) {
          throw new OAuthError('invalid_scope', 'Client credentials tokens are limited to the public scope.')
        }
        const family = core.authority.startFamily({
          clientId: client.id,
          scope,
          redirectUri: null,
          organizationId: null,
          origin: 'client_credentials',
        })
        return tokenAnswer(core.authority.issueAccessToken(family, core.accessTokenTtl('other')), family)
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
          ['realm', 'Doorkeeper'],
          ['error', 'invalid_token'],
          ['error_description', description],
        ]),
      )
      .send({ error: 'invalid_token', error_description: description })
  }
  const api = { config: { kind: 'api' as const } }
  /** Checks the bearer token and scope, then answers `answer(params)` (null: 404). */
  const guarded =
    (needs: string[] | null, answer: (params: Record<string, string>) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const check = checkBearer(core, request)
      if (!check.ok) return unauthorized(reply, check.reason)
      if (needs && !needs.some((scope) => check.token.scope.includes(scope))) {
        return reply
          .code(403)
          .header(
            'www-authenticate',
            bearerChallenge([
              ['realm', 'Doorkeeper'],
              ['error', 'insufficient_scope'],
              ['scope', needs.join(' ')],
            ]),
          )
          .send({
            error: 'insufficient_scope',
            error_description: `This action needs one of the scopes: ${needs.join(', ')}.`,
          })
      }
      const body = answer(request.params as Record<string, string>)
      if (body === null) return reply.code(404).send({ errors: [{ code: 'not_found', title: 'Not found' }] })
      return reply.type('application/vnd.api+json').send(body)
    }
  const links = (resource: string) => ({
    [`${resource}.account`]: `/api/v3/accounts/{${resource}.account}`,
  })

  app.get(
    '/api/v3/accounts',
    api,
    guarded(null, () => ({ links: {}, accounts: [ACCOUNT], meta: {} })),
  )
  app.get(
    '/api/v3/rentals',
    api,
    guarded(null, () => ({ links: links('rentals'), rentals: RENTALS, meta: {} })),
  )
  app.get(
    '/api/v3/rentals/:ids',
    api,
    guarded(null, ({ ids }) => {
      const wanted = (ids ?? '').split(',')
      const rentals = RENTALS.filter((rental) => wanted.includes(String(rental.id)))
      return rentals.length === 0 ? null : { links: links('rentals'), rentals, meta: {} }
    }),
  )
  app.get(
    '/api/v3/bookings',
    api,
    guarded(BOOKING_READ, () => ({ links: links('bookings'), bookings: BOOKINGS, meta: {} })),
  )

  const origin = await listenOnLoopback(app, options.host ?? '127.0.0.1', options.port ?? 0)
  core.info = {
    authorizeUrl: `${origin}/oauth/authorize`,
    tokenUrl: `${origin}/oauth/token`,
    apiUrl: `${origin}/api/v3`,
    adminUrl: `${origin}/__admin`,
    clientId: core.defaultClient.id,
    clientSecret: core.defaultClient.secret ?? '',
  }
  return buildHandle(core, [app], policy)
}

/** The bookingsync platform: what `innkeeper emulate`, `startEmulator` and the demos read. */
export const bookingsyncPlatform = defineEmulatedPlatform({
  name: 'bookingsync',
  label: 'BookingSync (Smily)',
  aliases: ['smily'],
  ports: 1,
  start: startBookingSyncEmulator,
  demo: () => ({
    app: 'smily',
    flow: 'authorization code out of band: approve, then paste the code',
    scopes: ['public', 'rentals_read'],
    connect: 'out-of-band',
    request: { path: '/rentals', label: 'rentals', pick: 'rentals[].name' },
  }),
})
