// The OpenAPI 3.1 description of every `/api` route, the proxy and the operations routes, served
// at `/openapi.json`. Written by hand (the routes are few and their shapes stable) and held
// against the routes the server really registers by test/server/openapi.test.ts; the client's
// types in src/client/schema.ts are generated from it (`npm run generate:client`).
import { WEBHOOK_EVENT_TYPES } from '../webhooks/events.js'

const json = (schema: unknown) => ({ 'application/json': { schema } })
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) })

/** Answers every API-key route can give, whatever it does. */
const guarded = {
  '401': errorResponse('Missing or wrong API key (`unauthorized`); comes with `WWW-Authenticate: Bearer`.'),
  '429': errorResponse('Too many requests from this client address (`rate_limited`); wait a minute.'),
  '500': errorResponse(
    'Innkeeper failed unexpectedly (`internal_error`, `key_unavailable`, `decryption_failed`).',
  ),
}

const unknownConnection = { '404': errorResponse('No such connection (`unknown_connection`).') }

/** Answers of a route that may talk to the platform (a refresh, a proxied request). */
const platformFailures = {
  '409': errorResponse(
    'The connection needs a person to authorize it again (`needs_reauth`, `revoked`, `invalid_grant`).',
  ),
  '502': errorResponse(
    'The platform refused or answered something unusable (`invalid_client`, `invalid_response`, `http_error`, `response_too_large`, …).',
  ),
  '503': errorResponse(
    'The platform, the store or the refresh lock is unavailable (`provider_unavailable`, `rate_limited`, `store_unavailable`, `lock_timeout`); retry later.',
  ),
  '504': errorResponse('The platform did not answer in time (`provider_timeout`).'),
}

const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
})

const byId = [pathParam('id', 'Connection id `<app>/<name>`, URL-encoded: `acme%2Fmain`.')]
const byParts = [
  pathParam('app', 'The app of the connection.'),
  pathParam('name', 'The connection name within the app (`main` by default).'),
]

/**
 * The connection routes exist twice: `/api/connections/{id}` with the id URL-encoded, and
 * `/api/connections/{app}/{name}` for callers that would rather not encode the slash.
 */
function connectionRoutes(prefix: string, parameters: unknown[], suffix: string) {
  return {
    [prefix]: {
      parameters,
      get: {
        summary: 'Read one connection',
        operationId: `getConnection${suffix}`,
        tags: ['connections'],
        responses: {
          '200': { description: 'The connection (never a token).', content: json(ref('Connection')) },
          ...unknownConnection,
          ...guarded,
        },
      },
    },
    [`${prefix}/token`]: {
      parameters,
      post: {
        summary: 'A valid access token (renewed first when due), or the API key of an API-key connection',
        operationId: `getAccessToken${suffix}`,
        tags: ['connections'],
        description:
          'Concurrent callers share one refresh; the call is recorded in the audit trail under the API key. An API key (`kind: "api_key"`) never expires and is never refreshed.',
        responses: {
          '200': {
            description: 'The credential, its kind, expiry and the header to send it in.',
            content: json(ref('AccessToken')),
          },
          ...unknownConnection,
          ...platformFailures,
          ...guarded,
        },
      },
    },
    [`${prefix}/refresh`]: {
      parameters,
      post: {
        summary: 'Renew the access token now',
        operationId: `refreshConnection${suffix}`,
        tags: ['connections'],
        responses: {
          '200': { description: 'The connection after the refresh.', content: json(ref('Connection')) },
          ...unknownConnection,
          ...platformFailures,
          ...guarded,
        },
      },
    },
  }
}

/** The methods the proxy forwards (see PROXIED_METHODS in routes/proxy.ts). */
const PROXY_METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const

function proxyOperation(method: (typeof PROXY_METHODS)[number]) {
  const upper = method.toUpperCase()
  return {
    summary: `Forward a ${upper} to the platform with the token injected`,
    operationId: `proxy${upper[0]}${method.slice(1)}`,
    tags: ['proxy'],
    description:
      "The query string, the body and the headers accept, accept-language, content-type, content-language, if-*, prefer, idempotency-key and x-request-id are forwarded. A 401 from the platform triggers one refresh and one retry. The answer is streamed back with its status and `Innkeeper-Proxied: true`; an answer without that header is Innkeeper's own error.",
    ...(method === 'get' || method === 'head' || method === 'delete'
      ? {}
      : {
          requestBody: {
            required: false,
            description: 'Forwarded as it came, whatever its type.',
            content: { '*/*': { schema: {} } },
          },
        }),
    responses: {
      default: {
        description: "The platform's answer, as it came (any status).",
        headers: {
          'Innkeeper-Proxied': {
            description: 'Marks an answer that came from the platform.',
            schema: { type: 'string', const: 'true' },
          },
        },
        content: { '*/*': { schema: {} } },
      },
      '404': errorResponse(
        'No such connection (`unknown_connection`), without `Innkeeper-Proxied`; a platform 404 has the header.',
      ),
      ...platformFailures,
      ...guarded,
    },
  }
}

export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Innkeeper',
      version: '0.1.0',
      description:
        'Valid access tokens and authenticated requests for the booking-platform connections Innkeeper keeps, and the webhook receivers told about them. Every `/api` and `/proxy` route needs `Authorization: Bearer <API key>`. Errors answer `{ "error": { "code", "message" } }` with a stable `code`. A request whose `Host` the server does not answer for gets a plain-text 421 on any route.',
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    tags: [
      { name: 'connections', description: 'Connections and their access tokens.' },
      { name: 'webhooks', description: 'Receivers of signed connection events.' },
      { name: 'proxy', description: 'Requests to the platform in the name of a connection.' },
      {
        name: 'connect-sessions',
        description: 'Single-use connect links for end users (no operator login); see docs/server.md.',
      },
      { name: 'operations', description: 'Health, readiness, metrics and this document; no key needed.' },
    ],
    paths: {
      '/api/connections': {
        get: {
          summary: 'List connections',
          operationId: 'listConnections',
          tags: ['connections'],
          responses: {
            '200': {
              description: 'Every connection with its state and expiry (never a token).',
              content: json({
                type: 'object',
                required: ['connections'],
                properties: { connections: { type: 'array', items: ref('Connection') } },
              }),
            },
            ...guarded,
          },
        },
      },
      ...connectionRoutes('/api/connections/{id}', byId, ''),
      ...connectionRoutes('/api/connections/{app}/{name}', byParts, 'ByParts'),
      '/api/webhooks': {
        get: {
          summary: 'List webhook receivers and the deliveries waiting or given up',
          operationId: 'listWebhooks',
          tags: ['webhooks'],
          responses: {
            '200': {
              description: 'The receivers (never their secrets) and the deliveries not yet made.',
              content: json({
                type: 'object',
                required: ['webhooks', 'deliveries'],
                properties: {
                  webhooks: { type: 'array', items: ref('Webhook') },
                  deliveries: { type: 'array', items: ref('WebhookDelivery') },
                },
              }),
            },
            ...guarded,
          },
        },
        post: {
          summary: 'Add a webhook receiver',
          operationId: 'addWebhook',
          tags: ['webhooks'],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['url'],
              properties: {
                url: {
                  type: 'string',
                  format: 'uri',
                  description:
                    'HTTPS, or plain HTTP on loopback only; a public address unless the operator allows private receivers.',
                  examples: ['https://app.example.com/hooks/innkeeper'],
                },
                events: {
                  type: 'array',
                  items: ref('WebhookEventType'),
                  description: 'Default: every event except `connection.refreshed`.',
                },
              },
            }),
          },
          responses: {
            '201': {
              description: 'The receiver with its signing secret, shown this once.',
              content: json(ref('AddedWebhook')),
            },
            '400': errorResponse(
              'Not a receiver: no `url`, a plain-HTTP URL off loopback (`insecure_url`), a private address (`forbidden_host`) or an unknown event (`invalid_config`, `invalid_request`).',
            ),
            ...guarded,
          },
        },
      },
      '/api/webhooks/{id}': {
        parameters: [pathParam('id', 'The receiver id.')],
        delete: {
          summary: 'Remove a webhook receiver',
          operationId: 'removeWebhook',
          tags: ['webhooks'],
          responses: {
            '204': { description: 'Removed; its waiting deliveries are not sent.' },
            '404': errorResponse('No such receiver (`unknown_webhook`).'),
            ...guarded,
          },
        },
      },
      '/api/connect-sessions': {
        post: {
          summary: 'Create a single-use connect link for an end user',
          operationId: 'createConnectSession',
          tags: ['connect-sessions'],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['app'],
              additionalProperties: false,
              properties: {
                app: { type: 'string', description: 'The app to connect.', examples: ['smily'] },
                name: {
                  type: 'string',
                  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
                  description: 'The connection name; default a fresh `link-<hex>`.',
                },
                options: {
                  type: 'object',
                  additionalProperties: { type: 'string' },
                  description:
                    "Connect options fixed by the link (bookingtime's `organizationId`, BookyFlow's `channel`); the page asks the end user for the others.",
                },
                returnUrl: {
                  type: 'string',
                  format: 'uri',
                  description:
                    "Where the end user goes once connected, with `connection=<id>` added. Must match the app's allow-list (exact origin, path prefix).",
                },
                expiresIn: {
                  type: 'integer',
                  minimum: 60,
                  maximum: 604800,
                  default: 1800,
                  description: 'Seconds the link works.',
                },
                replace: {
                  type: 'boolean',
                  default: false,
                  description: 'Allow replacing an existing connection of the same name.',
                },
              },
            }),
          },
          responses: {
            '201': {
              description: 'The link, to hand to the end user once.',
              content: json({
                type: 'object',
                required: ['url', 'expiresAt', 'connectionId'],
                properties: {
                  url: {
                    type: 'string',
                    format: 'uri',
                    examples: ['https://innkeeper.example.com/connect/ikc_…'],
                  },
                  expiresAt: { type: 'string', format: 'date-time' },
                  connectionId: {
                    type: 'string',
                    description: 'The connection the link makes, `<app>/<name>`.',
                  },
                },
              }),
            },
            '400': errorResponse(
              'Not a session: a return URL outside the allow-list, an unknown connect option, a bad name or lifetime (`invalid_request`, `invalid_config`).',
            ),
            '404': errorResponse('No such app (`unknown_app`).'),
            '409': errorResponse('A connection of that name exists and `replace` is not set (`conflict`).'),
            ...guarded,
          },
        },
      },
      '/proxy/{app}/{name}/{path}': {
        parameters: [
          ...byParts,
          pathParam(
            'path',
            "Path under the platform's API base URL; may contain slashes (`rentals/12`). The query string is forwarded.",
          ),
        ],
        ...Object.fromEntries(PROXY_METHODS.map((method) => [method, proxyOperation(method)])),
      },
      '/healthz': {
        get: {
          summary: 'The process is up',
          operationId: 'health',
          tags: ['operations'],
          security: [],
          responses: {
            '200': {
              description: 'Up.',
              content: json({
                type: 'object',
                required: ['status'],
                properties: { status: { type: 'string', const: 'ok' } },
              }),
            },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'The store answers',
          operationId: 'ready',
          tags: ['operations'],
          security: [],
          responses: {
            '200': {
              description: 'Ready to serve.',
              content: json({
                type: 'object',
                required: ['status', 'store'],
                properties: {
                  status: { type: 'string', const: 'ready' },
                  store: { type: 'string', examples: ['sqlite', 'postgres', 'redis', 'memory'] },
                },
              }),
            },
            '503': errorResponse('The store does not answer (`store_unavailable`).'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          operationId: 'metrics',
          tags: ['operations'],
          security: [],
          responses: {
            '200': {
              description: 'Prometheus text format 0.0.4.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          operationId: 'openApiDocument',
          tags: ['operations'],
          security: [],
          responses: {
            '200': {
              description: 'The OpenAPI 3.1 document, with this server as its server URL.',
              content: json({ type: 'object' }),
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key from `innkeeper keys create` or INNKEEPER_API_KEYS.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: {
                  type: 'string',
                  description: 'Stable; programs branch on it. The HTTP status follows from it.',
                  examples: ['unauthorized', 'unknown_connection', 'needs_reauth', 'provider_unavailable'],
                },
                message: {
                  type: 'string',
                  description: 'For people: what happened and what to do. Never a secret.',
                },
              },
            },
          },
        },
        AccessToken: {
          type: 'object',
          required: ['accessToken', 'tokenType', 'expiresAt', 'kind', 'header'],
          properties: {
            accessToken: { type: 'string', description: 'The access token, or the API key itself.' },
            tokenType: { type: 'string', examples: ['Bearer', 'api_key'] },
            expiresAt: {
              type: ['integer', 'null'],
              description: 'Milliseconds since the epoch; null when unknown or never (an API key).',
            },
            kind: { type: 'string', enum: ['access_token', 'api_key'] },
            header: {
              type: 'object',
              description: 'The header to send it in: `authorization: Bearer …`, or the platform key header.',
              required: ['name', 'value'],
              properties: {
                name: { type: 'string', examples: ['authorization', 'x-api-key'] },
                value: { type: 'string' },
              },
            },
          },
        },
        ConnectionState: {
          type: 'string',
          enum: ['active', 'expiring', 'refreshing', 'needs_reauth', 'error', 'revoked'],
        },
        Connection: {
          type: 'object',
          required: [
            'id',
            'app',
            'name',
            'provider',
            'state',
            'scopes',
            'metadata',
            'accessTokenExpiresAt',
            'refreshTokenExpiresAt',
            'hasRefreshToken',
            'lastRefreshAt',
            'refreshDueAt',
            'lastError',
            'createdAt',
            'updatedAt',
          ],
          description: 'Times are milliseconds since the epoch.',
          properties: {
            id: { type: 'string', examples: ['acme/main'] },
            app: { type: 'string' },
            name: { type: 'string' },
            provider: { type: 'string', examples: ['bookingsync'] },
            state: ref('ConnectionState'),
            scopes: { type: 'array', items: { type: 'string' } },
            metadata: { type: 'object', additionalProperties: true },
            accessTokenExpiresAt: { type: ['integer', 'null'] },
            refreshTokenExpiresAt: { type: ['integer', 'null'] },
            hasRefreshToken: { type: 'boolean' },
            lastRefreshAt: { type: ['integer', 'null'] },
            refreshDueAt: { type: ['integer', 'null'] },
            lastError: {
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  required: ['code', 'message', 'at'],
                  properties: {
                    code: { type: 'string' },
                    message: { type: 'string' },
                    at: { type: 'integer' },
                    since: { type: 'integer', description: 'When the current run of failures began.' },
                    final: {
                      type: 'boolean',
                      description: 'No more automatic retries until a manual refresh.',
                    },
                  },
                },
              ],
            },
            createdAt: { type: 'integer' },
            updatedAt: { type: 'integer' },
          },
        },
        WebhookEventType: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
        Webhook: {
          type: 'object',
          required: ['id', 'url', 'events', 'createdAt', 'pending', 'dead'],
          properties: {
            id: { type: 'string' },
            url: { type: 'string' },
            events: { type: 'array', items: ref('WebhookEventType') },
            createdAt: { type: 'integer' },
            pending: { type: 'integer', description: 'Deliveries waiting (first attempt or retry).' },
            dead: { type: 'integer', description: 'Deliveries given up after 24 hours.' },
          },
        },
        AddedWebhook: {
          allOf: [
            ref('Webhook'),
            {
              type: 'object',
              required: ['secret'],
              properties: {
                secret: {
                  type: 'string',
                  description:
                    'The signing secret, shown this once; verify deliveries with `verifyWebhook(body, header, secret)`.',
                  examples: ['whsec_…'],
                },
              },
            },
          ],
        },
        WebhookDelivery: {
          type: 'object',
          required: [
            'id',
            'eventId',
            'receiverId',
            'type',
            'connection',
            'state',
            'attempts',
            'nextAttemptAt',
            'lastError',
            'createdAt',
          ],
          properties: {
            id: { type: 'string' },
            eventId: { type: 'string' },
            receiverId: { type: 'string' },
            type: { type: 'string' },
            connection: { type: ['string', 'null'], description: 'The connection id.' },
            state: { type: 'string', enum: ['pending', 'dead'] },
            attempts: { type: 'integer' },
            nextAttemptAt: { type: 'integer' },
            lastError: { type: ['string', 'null'] },
            createdAt: { type: 'integer' },
          },
        },
      },
    },
  }
}
