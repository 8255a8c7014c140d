// BookyFlow (docs/platforms/bookyflow.md): a self-hosted base URL; client credentials only, with a required scope,
// 1-hour tokens and no refresh token; the documented 401/403 bodies; the Channel Management
// Framework (announce, then `X-BOOKYFLOW-channel-name` on every `/cmf/…` call, and a channel
// sees only the properties it created); auth-free endpoints; `YYYY-MM-DD` dates.
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { checkBearer } from './api-auth.js'
import { registerControlApi } from './control.js'
import { EmulatorCore } from './core.js'
import { buildHandle } from './handle.js'
import { createEmulatorApp, listenOnLoopback } from './http-app.js'
import { OAuthError } from './oauth-error.js'
import type { AccessTokenRecord } from './oauth-server.js'
import { defineEmulatedPlatform, type EmulatorHandle, type EmulatorOptions } from './platform.js'
import { parseScope, registerTokenEndpoint } from './token-endpoint.js'
import { JwtSigner } from './tokens.js'

/** The documented "common scopes"; API plugins add their own (the `extraScopes` switch). */
export const BOOKYFLOW_SCOPES = ['read', 'write', 'delete'] as const
const BASE = '/bookyflow/api'
const CHANNEL_HEADER = 'x-bookyflow-channel-name'

/** The documented bodies, exactly. */
const UNAUTHORIZED = { error: 'unauthorized', error_description: 'Invalid or expired token' }
const FORBIDDEN = { error: 'forbidden', error_description: 'Insufficient scope' }

interface Property {
  uid: string
  name: string
  city: string | null
  country: string | null
  clientId: string
  /** The announced channel that created it; null when created outside the CMF. */
  channel: string | null
  bookings: Array<{ id: string; arrival: string; departure: string; guest_name: string }>
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A real calendar day in `YYYY-MM-DD`. */
export function isBookyFlowDate(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const match = DATE.exec(value)
  if (!match) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value
}

function propertyView(property: Property) {
  return {
    uid: property.uid,
    name: property.name,
    city: property.city,
    country: property.country,
    channel: property.channel,
  }
}

export async function startBookyFlowEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const signer = new JwtSigner()
  let issuer = 'http://127.0.0.1'
  const seconds = (ms: number) => Math.floor(ms / 1000)
  const core: EmulatorCore = new EmulatorCore({
    platform: 'bookyflow',
    defaults: { accessTokenTtl: 3600 },
    minter: {
      accessToken: ({ family, issuedAtMs, expiresAtMs }) =>
        signer.sign({
          iss: issuer,
          sub: family.clientId,
          scope: family.scope.join(' '),
          iat: seconds(issuedAtMs),
          exp: seconds(expiresAtMs),
          jti: randomUUID(),
        }),
      refreshToken: () => {
        throw new Error('BookyFlow issues no refresh tokens.')
      },
    },
    options,
  })
  /** client id (or access token, with `channelsPerToken`) → announced channel names. */
  const channels = new Map<string, Set<string>>()
  const announcer = (token: AccessTokenRecord) =>
    core.config.channelsPerToken ? `token:${token.token}` : `client:${token.clientId}`
  const properties = new Map<string, Property>()

  const app = await createEmulatorApp(core)
  registerTokenEndpoint(app, `${BASE}/oauth/token`, core, {
    client_credentials: {
      secretRequired: true,
      issue: ({ params, client }) => {
        const scope = parseScope(params.scope)
        if (scope.length === 0)
          throw new OAuthError('invalid_scope', 'The scope parameter is required (space-separated).')
        const known = [...BOOKYFLOW_SCOPES, ...core.config.extraScopes]
        const unknown = scope.filter((s) => !known.includes(s))
        if (unknown.length > 0) throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.join(' ')}.`)
        const family = core.authority.startFamily({
          clientId: client.id,
          scope: [...new Set(scope)],
          redirectUri: null,
          organizationId: null,
          origin: 'client_credentials',
        })
        const access = core.authority.issueAccessToken(family, core.accessTokenTtl('other'))
        return { access_token: access.token, token_type: 'Bearer', expires_in: core.accessTokenTtl('other') }
      },
    },
  })
  registerControlApi(app, core)

  const api = { config: { kind: 'api' as const } }
  const open = { config: { kind: 'public' as const } }

  interface CallContext {
    token: AccessTokenRecord
    /** The announced channel named by the header, or null when none was sent. */
    channel: string | null
  }
  /**
   * Token (401), scope (403), then the channel header: required on `/cmf/…` (400 when missing),
   * and when present it must name a channel this client announced (403).
   */
  const guarded =
    (
      scope: (typeof BOOKYFLOW_SCOPES)[number] | null,
      channelRequired: boolean,
      handler: (ctx: CallContext, request: FastifyRequest, reply: FastifyReply) => unknown,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const check = checkBearer(core, request)
      if (!check.ok) return reply.code(401).send(UNAUTHORIZED)
      if (scope && !check.token.scope.includes(scope)) return reply.code(403).send(FORBIDDEN)
      const header = request.headers[CHANNEL_HEADER]
      const channel = typeof header === 'string' && header.length > 0 ? header : null
      if (channel === null && channelRequired) {
        return reply.code(400).send({
          error: 'missing_channel',
          error_description:
            'The X-BOOKYFLOW-channel-name header is required on Channel Management Framework requests.',
        })
      }
      if (channel !== null && !channels.get(announcer(check.token))?.has(channel)) {
        return reply.code(403).send({
          error: 'forbidden',
          error_description: 'The channel has not been announced. Announce it first.',
        })
      }
      return handler({ token: check.token, channel }, request, reply)
    }
  const notFound = (reply: FastifyReply) =>
    reply.code(404).send({ error: 'not_found', error_description: 'No such property for this channel.' })
  const ownProperty = (ctx: CallContext, uid: string) => {
    const property = properties.get(uid)
    return property && property.clientId === ctx.token.clientId && property.channel === ctx.channel
      ? property
      : undefined
  }

  const announce = guarded(null, false, ({ token }, request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const name = body.channel_name
    if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description: 'channel_name is required: 1-64 letters, digits, dots, dashes or underscores.',
      })
    }
    const announced = channels.get(announcer(token)) ?? new Set<string>()
    const created = !announced.has(name)
    announced.add(name)
    channels.set(announcer(token), announced)
    return reply.code(created ? 201 : 200).send({ channel_name: name, announced: true })
  })
  // The announce path is an assumption (the `announcePath` switch moves it): a platform that
  // serves it elsewhere answers 404 on ours, as a real installation would.
  const atAnnouncePath = (request: FastifyRequest) =>
    request.url.split('?')[0] === `${BASE}${core.config.announcePath}`
  app.post(`${BASE}/cmf/announce`, api, (request, reply) =>
    atAnnouncePath(request) ? announce(request, reply) : reply.callNotFound(),
  )
  app.post(`${BASE}/*`, api, (request, reply) =>
    atAnnouncePath(request) ? announce(request, reply) : reply.callNotFound(),
  )
  app.get(
    `${BASE}/cmf/channel`,
    api,
    guarded('read', true, ({ channel, token }) => ({
      channel_name: channel,
      properties: [...properties.values()].filter(
        (p) => p.clientId === token.clientId && p.channel === channel,
      ).length,
    })),
  )

  const listProperties = (ctx: CallContext) => ({
    data: [...properties.values()]
      .filter((property) => property.clientId === ctx.token.clientId && property.channel === ctx.channel)
      .map(propertyView),
  })
  const createProperty = (ctx: CallContext, request: FastifyRequest, reply: FastifyReply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    if (typeof body.name !== 'string' || body.name.length === 0) {
      return reply.code(422).send({ error: 'validation_failed', error_description: 'name is required.' })
    }
    const property: Property = {
      uid: `prop_${randomBytes(8).toString('hex')}`,
      name: body.name,
      city: typeof body.city === 'string' ? body.city : null,
      country: typeof body.country === 'string' ? body.country : null,
      clientId: ctx.token.clientId,
      channel: ctx.channel,
      bookings: [],
    }
    properties.set(property.uid, property)
    return reply.code(201).send({ data: propertyView(property) })
  }
  for (const prefix of [BASE, `${BASE}/cmf`]) {
    const channelRequired = prefix !== BASE
    app.get(`${prefix}/properties`, api, guarded('read', channelRequired, listProperties))
    app.post(`${prefix}/properties`, api, guarded('write', channelRequired, createProperty))
    app.get(
      `${prefix}/properties/:uid`,
      api,
      guarded('read', channelRequired, (ctx, request, reply) => {
        const property = ownProperty(ctx, (request.params as { uid: string }).uid)
        return property ? { data: propertyView(property) } : notFound(reply)
      }),
    )
    app.put(
      `${prefix}/properties/:uid`,
      api,
      guarded('write', channelRequired, (ctx, request, reply) => {
        const property = ownProperty(ctx, (request.params as { uid: string }).uid)
        if (!property) return notFound(reply)
        const body = (request.body ?? {}) as Record<string, unknown>
        if (typeof body.name === 'string' && body.name.length > 0) property.name = body.name
        if (typeof body.city === 'string') property.city = body.city
        if (typeof body.country === 'string') property.country = body.country
        return { data: propertyView(property) }
      }),
    )
    app.delete(
      `${prefix}/properties/:uid`,
      api,
      guarded('delete', channelRequired, (ctx, request, reply) => {
        const property = ownProperty(ctx, (request.params as { uid: string }).uid)
        if (!property) return notFound(reply)
        properties.delete(property.uid)
        return reply.code(204).send()
      }),
    )
    app.get(
      `${prefix}/properties/:uid/bookings`,
      api,
      guarded('read', channelRequired, (ctx, request, reply) => {
        const property = ownProperty(ctx, (request.params as { uid: string }).uid)
        return property ? { data: property.bookings } : notFound(reply)
      }),
    )
    app.post(
      `${prefix}/properties/:uid/bookings`,
      api,
      guarded('write', channelRequired, (ctx, request, reply) => {
        const property = ownProperty(ctx, (request.params as { uid: string }).uid)
        if (!property) return notFound(reply)
        const body = (request.body ?? {}) as Record<string, unknown>
        const bad = ['arrival', 'departure'].filter((field) => !isBookyFlowDate(body[field]))
        if (bad.length > 0) {
          return reply.code(422).send({
            error: 'invalid_date',
            error_description: `${bad.join(' and ')} must be a date in YYYY-MM-DD format, e.g. 2024-11-17.`,
          })
        }
        if (String(body.departure) <= String(body.arrival)) {
          return reply
            .code(422)
            .send({ error: 'invalid_date', error_description: 'departure must be after arrival.' })
        }
        const booking = {
          id: `bk_${randomBytes(6).toString('hex')}`,
          arrival: String(body.arrival),
          departure: String(body.departure),
          guest_name: typeof body.guest_name === 'string' ? body.guest_name : '',
        }
        property.bookings.push(booking)
        return reply.code(201).send({ data: booking })
      }),
    )
  }

  // Auth-free endpoints (marked * in BookyFlow's documentation).
  app.get(`${BASE}/status`, open, async () => ({ status: 'ok', version: 'emulator' }))
  app.get(`${BASE}/countries`, open, async () => ({
    data: [
      { code: 'NL', name: 'Netherlands' },
      { code: 'DE', name: 'Germany' },
      { code: 'FR', name: 'France' },
      { code: 'GB', name: 'United Kingdom' },
    ],
  }))

  const origin = await listenOnLoopback(app, options.host ?? '127.0.0.1', options.port ?? 0)
  issuer = origin
  core.info = {
    baseUrl: origin,
    tokenUrl: `${origin}${BASE}/oauth/token`,
    apiUrl: `${origin}${BASE}`,
    adminUrl: `${origin}/__admin`,
    clientId: core.defaultClient.id,
    clientSecret: core.defaultClient.secret ?? '',
  }
  return buildHandle(core, [app])
}

/** The bookyflow platform: what `innkeeper emulate`, `startEmulator` and the demos read. */
export const bookyflowPlatform = defineEmulatedPlatform({
  name: 'bookyflow',
  label: 'BookyFlow',
  aliases: [],
  ports: 1,
  start: startBookyFlowEmulator,
  demo: () => ({
    app: 'bookyflow',
    flow: 'client credentials on a self-hosted installation, with a channel announce',
    scopes: ['read', 'write'],
    connect: 'direct',
    connectOptions: { channel: 'innkeeper-demo' },
    metadata: ['channel'],
    request: {
      method: 'POST',
      path: '/cmf/properties',
      json: { name: 'Sea view apartment' },
      label: 'property created (sent with X-BOOKYFLOW-channel-name)',
      pick: 'data.name',
    },
  }),
})
