// `createClient({ baseUrl, apiKey })`: a typed client of `innkeeper serve` for Node backends:
// tokens, connections, webhook receivers, connect links and proxied platform requests. Built on openapi-fetch and
// typed by src/client/schema.ts (generated from the service's OpenAPI document); every answer
// Innkeeper itself refuses becomes an InnkeeperApiError carrying the service's error `code`.
import createFetchClient, { type Client } from 'openapi-fetch'
import type { components, operations, paths } from './schema.js'

type Schemas = components['schemas']
export type Connection = Schemas['Connection']
export type ConnectionState = Schemas['ConnectionState']
export type AccessToken = Schemas['AccessToken']
export type Webhook = Schemas['Webhook']
export type AddedWebhook = Schemas['AddedWebhook']
export type WebhookDelivery = Schemas['WebhookDelivery']
export type WebhookEventType = Schemas['WebhookEventType']
export type ErrorBody = Schemas['Error']
type CreateConnectSession = operations['createConnectSession']
export type ConnectSessionRequest = CreateConnectSession['requestBody']['content']['application/json']
export type ConnectSession = CreateConnectSession['responses']['201']['content']['application/json']

/** Set by the service on every proxied answer that came from the platform. */
const PROXIED_HEADER = 'innkeeper-proxied'

/** The service answered with an error: `code` is its stable error code (`unknown_connection`, …). */
export class InnkeeperApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status of the answer. */
    readonly status: number,
  ) {
    super(message)
    this.name = 'InnkeeperApiError'
  }
}

export interface InnkeeperClientOptions {
  /** Where `innkeeper serve` answers, e.g. `https://keys.example.com`. */
  baseUrl: string
  /** An API key from `innkeeper keys create` or INNKEEPER_API_KEYS. */
  apiKey: string
  /** A fetch to use instead of the global one (a custom agent, tracing). */
  fetch?: typeof globalThis.fetch
}

export interface InnkeeperClient {
  connections: {
    list(): Promise<Connection[]>
    /** `id` is `<app>/<name>`; `<app>` alone means `<app>/main`. */
    get(id: string): Promise<Connection>
    /** A valid access token (renewed first when due), or the key of an API-key connection. */
    token(id: string): Promise<AccessToken>
    /** Renews the access token now; answers the connection after the refresh. */
    refresh(id: string): Promise<Connection>
  }
  webhooks: {
    list(): Promise<{ webhooks: Webhook[]; deliveries: WebhookDelivery[] }>
    /** Answers the receiver with its signing secret, shown this once. */
    add(receiver: { url: string; events?: WebhookEventType[] }): Promise<AddedWebhook>
    remove(id: string): Promise<void>
  }
  connectSessions: {
    /** A single-use connect link for an end user (`POST /api/connect-sessions`); hand `url` to them once. */
    create(session: ConnectSessionRequest): Promise<ConnectSession>
  }
  /**
   * Sends a request to the platform in the name of connection `id` (`<app>/<name>`); `path` is
   * relative to the platform's API base URL and may carry a query. Answers the platform's
   * Response whatever its status; throws InnkeeperApiError when Innkeeper itself refuses.
   */
  proxy(id: string, path: string, init?: RequestInit): Promise<Response>
  /** The underlying openapi-fetch client, typed by every path of the document. */
  api: Client<paths>
}

function errorOf(status: number, body: unknown): InnkeeperApiError {
  const error = (body as Partial<ErrorBody> | undefined)?.error
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new InnkeeperApiError(error.code, error.message, status)
  }
  // Not the service's shape: a reverse proxy or a load balancer answered.
  return new InnkeeperApiError('http_error', `The service answered HTTP ${status}.`, status)
}

/** openapi-fetch answers `{ data, error, response }`; this keeps `data` and throws the rest. */
async function dataOf<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call
  if (!response.ok) throw errorOf(response.status, error)
  return data as T
}

export function createClient(options: InnkeeperClientOptions): InnkeeperClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const fetchImpl = options.fetch ?? globalThis.fetch
  const authorization = `Bearer ${options.apiKey}`
  const api = createFetchClient<paths>({ baseUrl, headers: { authorization }, fetch: fetchImpl })
  const byId = (id: string) => ({ params: { path: { id } } })

  return {
    api,
    connections: {
      list: async () => (await dataOf(api.GET('/api/connections'))).connections,
      get: (id) => dataOf(api.GET('/api/connections/{id}', byId(id))),
      token: (id) => dataOf(api.POST('/api/connections/{id}/token', byId(id))),
      refresh: (id) => dataOf(api.POST('/api/connections/{id}/refresh', byId(id))),
    },
    webhooks: {
      list: () => dataOf(api.GET('/api/webhooks')),
      add: (receiver) => dataOf(api.POST('/api/webhooks', { body: receiver })),
      remove: async (id) => {
        await dataOf(api.DELETE('/api/webhooks/{id}', { params: { path: { id } } }))
      },
    },
    connectSessions: {
      create: (session) => dataOf(api.POST('/api/connect-sessions', { body: session })),
    },
    async proxy(id, path, init = {}) {
      const slash = id.indexOf('/')
      const [app, name] = slash < 0 ? [id, 'main'] : [id.slice(0, slash), id.slice(slash + 1)]
      const headers = new Headers(init.headers)
      headers.set('authorization', authorization)
      const url = `${baseUrl}/proxy/${encodeURIComponent(app)}/${encodeURIComponent(name)}/${path.replace(/^\/+/, '')}`
      const response = await fetchImpl(url, { ...init, headers })
      if (response.ok || response.headers.get(PROXIED_HEADER) === 'true') return response
      const body = await response.json().catch(() => undefined)
      throw errorOf(response.status, body)
    },
  }
}
