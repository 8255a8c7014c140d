// Connecting with a static API key (a provider definition's `apiKey`): the key is checked with
// one GET where the definition names one, then kept like any token set, sealed at rest, with
// no expiry, no refresh token and no refresh due, so nothing ever renews it.
import { ConfigError, InnkeeperError, isInnkeeperError } from '../errors.js'
import { type ApiTarget, authenticatedFetch, readJson } from '../http/client.js'
import type { TokenSet } from '../model/token-set.js'
import { fillTemplates } from '../providers/template.js'
import type { ConnectionRecord } from '../stores/store.js'
import { checkName, connectionId, splitConnectionId } from './connection-id.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import { API_KEY_GRANT, API_KEY_TOKEN_TYPE, credentialHeader } from './credential.js'
import { toConnectionInfo } from './view.js'

export interface ApiKeyConnectOptions {
  apiKey: string
  /** The connection's name within the app (default `main`). */
  name?: string
  /**
   * `false`: refuse (`conflict`) rather than replace a connection of the same name (the
   * dashboard's API-key form). Default: the new key replaces it (the owner's reconnect).
   */
  replace?: boolean
}

/** The error for a name already taken where the caller may not replace it. */
function nameTaken(id: string): InnkeeperError {
  return new InnkeeperError(
    'conflict',
    `A connection named ${id} already exists; nothing was changed. Connect the key under another name, or disconnect ${id} first.`,
  )
}

/** The error for a key the platform refused (never the key itself). */
export function apiKeyRefused(app: ResolvedApp, id: string, status?: number): InnkeeperError {
  const { app: appName, name } = splitConnectionId(id)
  return new InnkeeperError(
    'invalid_token',
    `${app.provider.displayName} refused the API key of ${id}: it is wrong or was revoked there. Connect again with \`innkeeper connect ${appName} --name ${name} --api-key-stdin\`.`,
    { status },
  )
}

/** What `conn.fetch` needs to call the API with a key: the key's header, and no renewal on a 401. */
export function apiKeyTarget(
  ctx: KeeperContext,
  app: ResolvedApp,
  id: string,
  metadata: Record<string, unknown>,
  key: () => Promise<string>,
): ApiTarget {
  return {
    providerName: app.provider.displayName,
    apiUrl: app.endpoints.apiUrl,
    allowedOrigins: app.endpoints.apiOrigins,
    placeholderStyle: app.provider.api.placeholderStyle,
    headers: fillTemplates(app.provider.api.headers, { app: app.templateApp, metadata }),
    accessToken: key,
    credential: (token) => credentialHeader(app.provider, { tokenType: API_KEY_TOKEN_TYPE }, token),
    renewAfterRejection: async () => {
      throw apiKeyRefused(app, id, 401)
    },
    now: ctx.now,
    timeoutMs: ctx.limits.timeoutMs,
    maxResponseBytes: ctx.limits.maxResponseBytes,
    maxRetryAfterMs: ctx.retry.maxRetryAfterMs,
    sleep: (ms: number) => ctx.sleep(ms),
  }
}

export async function connectWithApiKey(
  ctx: KeeperContext,
  appName: string,
  options: ApiKeyConnectOptions,
): Promise<ConnectionRecord> {
  const app = await ctx.resolveApp(appName)
  const spec = app.provider.apiKey
  if (!spec) {
    throw new ConfigError(
      'invalid_config',
      `${app.provider.displayName} offers no API keys in its provider definition: connect ${appName} with an authorization instead (innkeeper connect ${appName}).`,
    )
  }
  const key = typeof options.apiKey === 'string' ? options.apiKey.trim() : ''
  if (!/^[!-~]+$/.test(key)) {
    throw new ConfigError('invalid_config', 'The API key is empty or contains spaces or control characters.')
  }
  const name = checkName(options.name ?? 'main')
  const id = connectionId(app.record.name, name)
  const keepExisting = options.replace === false
  // Refused before the platform is asked; the compare-and-swap below still settles a race.
  if (keepExisting && (await ctx.store.getConnection(id))) throw nameTaken(id)
  if (spec.verifyPath) {
    const target = apiKeyTarget(ctx, app, id, {}, async () => key)
    const response = await authenticatedFetch(target, spec.verifyPath)
    if (response.status === 403) {
      await response.body?.cancel()
      throw apiKeyRefused(app, id, 403)
    }
    await readJson(response, target, 'GET', new URL(spec.verifyPath, `${app.endpoints.apiUrl}/`).href)
  }
  const now = ctx.now()
  const tokens: TokenSet = { accessToken: key, tokenType: API_KEY_TOKEN_TYPE, obtainedAt: now }
  const existing = keepExisting ? null : await ctx.store.getConnection(id)
  // Unless `replace: false`, connecting a name again is the owner's own call (library or CLI):
  // the new key replaces it.
  const saved = await ctx
    .saveWithEvents(
      {
        id,
        app: app.record.name,
        name,
        state: 'active',
        tokens,
        scopes: [],
        metadata: { grant: API_KEY_GRANT },
        failures: 0,
        // Never due: the background refresher has nothing to renew.
        refreshDueAt: undefined,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        lastRefreshAt: now,
        version: existing?.version ?? 0,
      },
      keepExisting ? 0 : undefined,
      ['connected'],
      app.provider.name,
    )
    .catch((error: unknown) => {
      throw keepExisting && isInnkeeperError(error) && error.code === 'conflict' ? nameTaken(id) : error
    })
  ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, now))
  return saved
}
