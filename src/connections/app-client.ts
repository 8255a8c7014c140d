// Requests to an app's API that need no connection: the platform's auth-free endpoints
// (BookyFlow marks them `*`), reached with only the app's settings and the provider's headers.
import { InnkeeperError } from '../errors.js'
import { type ApiRequestInit, type ApiTarget, authenticatedFetch, readJson } from '../http/client.js'
import { resolveRequestUrl } from '../http/request-url.js'
import { fillTemplates } from '../providers/template.js'
import type { KeeperContext } from './context.js'

/** An `ApiRequestInit` without `auth`: an app client never sends a token. */
export type PublicRequestInit = Omit<ApiRequestInit, 'auth'>

export class AppClient {
  constructor(
    readonly name: string,
    private readonly ctx: KeeperContext,
  ) {}

  /** An unauthenticated request to the app's API (`path` under its base URL, placeholders filled). */
  async fetch(path: string, init: PublicRequestInit = {}): Promise<Response> {
    return authenticatedFetch(await this.target(), path, { ...init, auth: false })
  }

  /** `fetch` that parses the JSON answer and throws a typed error on any non-2xx status. */
  async json<T = unknown>(path: string, init: PublicRequestInit = {}): Promise<T> {
    const target = await this.target()
    const response = await authenticatedFetch(target, path, { ...init, auth: false })
    const url = resolveRequestUrl(path, { ...target, params: init.params, query: init.query }).href
    return readJson<T>(response, target, (init.method ?? 'GET').toUpperCase(), url)
  }

  private async target(): Promise<ApiTarget> {
    const app = await this.ctx.resolveApp(this.name)
    const noToken = (): never => {
      throw new InnkeeperError(
        'invalid_config',
        `Requests through keeper.app('${this.name}') carry no token. For an endpoint that needs one, connect and use keeper.connection('${this.name}/main').`,
      )
    }
    return {
      providerName: app.provider.displayName,
      apiUrl: app.endpoints.apiUrl,
      allowedOrigins: app.endpoints.apiOrigins,
      placeholderStyle: app.provider.api.placeholderStyle,
      // No connection, so no metadata: headers that need it (BookyFlow's channel) are left out.
      headers: fillTemplates(app.provider.api.headers, { app: app.templateApp, metadata: {} }),
      accessToken: async () => noToken(),
      renewAfterRejection: async () => noToken(),
      now: this.ctx.now,
      maxRetryAfterMs: this.ctx.retry.maxRetryAfterMs,
      sleep: (ms: number) => this.ctx.sleep(ms),
      timeoutMs: this.ctx.limits.timeoutMs,
      maxResponseBytes: this.ctx.limits.maxResponseBytes,
    }
  }
}
