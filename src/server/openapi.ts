// The OpenAPI 3.1 description of the JSON API, the proxy and the health routes, served at
// `/openapi.json`. Written by hand: the routes are few and their shapes stable.

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
})

const connectionParams = [
  {
    name: 'id',
    in: 'path',
    required: true,
    description:
      'Connection id `<app>/<name>`, URL-encoded (`acme%2Fmain`); `/api/connections/{app}/{name}` also works.',
    schema: { type: 'string' },
  },
]

const common = {
  '401': errorResponse('Missing or wrong API key.'),
  '404': errorResponse('Unknown connection.'),
  '429': errorResponse('Too many requests from this client.'),
}

const platformFailures = {
  '409': errorResponse('The connection needs a person to authorize again (`needs_reauth`).'),
  '502': errorResponse('The platform refused or answered something unusable.'),
  '503': errorResponse('The platform or the store is unavailable; retry later.'),
}

export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Innkeeper',
      version: '0.1.0',
      description:
        'Valid access tokens and authenticated requests for the booking-platform connections Innkeeper keeps. Every `/api` and `/proxy` route needs `Authorization: Bearer <API key>`.',
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths: {
      '/api/connections': {
        get: {
          summary: 'List connections',
          operationId: 'listConnections',
          responses: {
            '200': {
              description: 'Every connection with its state and expiry (never a token).',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      connections: { type: 'array', items: { $ref: '#/components/schemas/Connection' } },
                    },
                    required: ['connections'],
                  },
                },
              },
            },
            '401': common['401'],
          },
        },
      },
      '/api/connections/{id}': {
        get: {
          summary: 'Read one connection',
          operationId: 'getConnection',
          parameters: connectionParams,
          responses: {
            '200': {
              description: 'The connection.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Connection' } } },
            },
            ...common,
          },
        },
      },
      '/api/connections/{id}/token': {
        post: {
          summary: 'A valid access token (renewed first when due), or the API key of an API-key connection',
          operationId: 'getAccessToken',
          parameters: connectionParams,
          responses: {
            '200': {
              description:
                'The credential, its kind, expiry and the header to send it in; concurrent callers share one refresh. An API key (`kind: "api_key"`) never expires and is never refreshed.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/AccessToken' } } },
            },
            ...common,
            ...platformFailures,
          },
        },
      },
      '/api/connections/{id}/refresh': {
        post: {
          summary: 'Renew the access token now',
          operationId: 'refreshConnection',
          parameters: connectionParams,
          responses: {
            '200': {
              description: 'The connection after the refresh.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Connection' } } },
            },
            ...common,
            ...platformFailures,
          },
        },
      },
      '/proxy/{app}/{name}/{path}': {
        parameters: [
          { name: 'app', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'path',
            in: 'path',
            required: true,
            description:
              "Path under the platform's API base URL (may contain slashes); the query string is forwarded.",
            schema: { type: 'string' },
          },
        ],
        ...Object.fromEntries(
          ['get', 'post', 'put', 'patch', 'delete'].map((method) => [
            method,
            {
              summary: `Forward a ${method.toUpperCase()} to the platform with the token injected`,
              operationId: `proxy${method[0]?.toUpperCase()}${method.slice(1)}`,
              description:
                'Method, query, body and the headers accept, accept-language, content-type, content-language, if-*, prefer, idempotency-key and x-request-id are forwarded. A 401 from the platform triggers one refresh and one retry. The answer is streamed back with its status.',
              ...(method === 'get' || method === 'delete'
                ? {}
                : { requestBody: { required: false, content: { '*/*': { schema: {} } } } }),
              responses: {
                default: { description: "The platform's answer, as it came." },
                '401': common['401'],
                '404': common['404'],
                ...platformFailures,
              },
            },
          ]),
        ),
      },
      '/healthz': {
        get: {
          summary: 'The process is up',
          security: [],
          responses: { '200': { description: '`{ "status": "ok" }`' } },
        },
      },
      '/readyz': {
        get: {
          summary: 'The store answers',
          security: [],
          responses: {
            '200': { description: '`{ "status": "ready", "store": "sqlite" }`' },
            '503': errorResponse('The store does not answer.'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: {
            '200': { description: 'Prometheus text format 0.0.4.', content: { 'text/plain': {} } },
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
                  examples: ['unauthorized', 'unknown_connection', 'needs_reauth', 'provider_unavailable'],
                },
                message: { type: 'string' },
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
        Connection: {
          type: 'object',
          required: ['id', 'app', 'name', 'provider', 'state'],
          properties: {
            id: { type: 'string', examples: ['acme/main'] },
            app: { type: 'string' },
            name: { type: 'string' },
            provider: { type: 'string' },
            state: {
              type: 'string',
              enum: ['active', 'expiring', 'refreshing', 'needs_reauth', 'error', 'revoked'],
            },
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
                  properties: {
                    code: { type: 'string' },
                    message: { type: 'string' },
                    at: { type: 'integer' },
                  },
                },
              ],
            },
            createdAt: { type: 'integer' },
            updatedAt: { type: 'integer' },
          },
        },
      },
    },
  }
}
