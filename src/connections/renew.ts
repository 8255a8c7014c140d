// The token requests that renew one connection's tokens, as its provider definition says:
// a refresh-token grant (with the provider's extra parameters), a fresh client-credentials
// grant for providers without refresh tokens, and bookingtime's two steps (client credentials
// → refresh token → organization access token). No storage here: the caller commits.
import { InnkeeperError, NeedsReauthError, TokenEndpointError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import { requestToken } from '../oauth/token-request.js'
import type { Grant } from '../providers/schema.js'
import { fillTemplates } from '../providers/template.js'
import type { ConnectionRecord } from '../stores/store.js'
import type { ResolvedApp } from './context.js'
import { reconnectCommand } from './reconnect.js'
import { refreshTokenRenewalDueAt, renewsByClientCredentials } from './refresh-policy.js'

export interface RenewResult {
  tokens: TokenSet
  /** The refresh token that was replaced by rotation, kept until the new one has worked. */
  rotatedFrom?: string
}

export function grantRequest(
  app: ResolvedApp,
  grant: Grant,
  params: Record<string, string | undefined>,
  metadata: Record<string, unknown>,
  now: () => number,
  previous?: TokenSet | null,
): Promise<TokenSet> {
  const extra = fillTemplates(app.provider.tokenParams[grant] ?? {}, {
    app: app.templateApp,
    metadata,
    connection: { redirectUri: connectionRedirectUri(app, metadata) },
  })
  return requestToken({
    provider: app.provider,
    tokenUrl: app.endpoints.tokenUrl,
    clientId: app.record.clientId,
    clientSecret: app.record.clientSecret,
    grant,
    params: { ...extra, ...params },
    now,
    previous,
    // The token endpoint keeps its own 15 s unless a request timeout was configured.
    timeoutMs: app.limits.configured ? app.limits.timeoutMs : undefined,
  })
}

/**
 * The redirect URI the connection's authorization used (a `--listen` port, a `--redirect-uri`, the
 * service's callback), kept in its metadata; connections made before it was kept used the app's.
 */
export function connectionRedirectUri(app: ResolvedApp, metadata: Record<string, unknown>): unknown {
  return metadata.redirectUri ?? app.templateApp.redirectUri
}

/** Scopes for a client-credentials request: the connection's, else the app's, else the provider's. */
export function clientCredentialsScope(app: ResolvedApp, scopes: string[]): string | undefined {
  const chosen = scopes.length > 0 ? scopes : (app.record.scopes ?? app.provider.scopes.default)
  if (chosen.length === 0 && app.provider.scopes.requiredForClientCredentials) {
    throw new InnkeeperError(
      'invalid_config',
      `${app.provider.displayName} requires scopes for client credentials. Pass scopes (e.g. --scope "read write").`,
    )
  }
  return chosen.length > 0 ? chosen.join(app.provider.scopes.separator) : undefined
}

/** Exchanges a refresh token for an access token (the second bookingtime step, or any refresh). */
export async function exchangeRefreshToken(
  app: ResolvedApp,
  tokens: TokenSet,
  metadata: Record<string, unknown>,
  now: () => number,
  refreshToken = tokens.refreshToken,
): Promise<RenewResult> {
  const next = await grantRequest(
    app,
    'refresh_token',
    { refresh_token: refreshToken },
    metadata,
    now,
    tokens,
  )
  const rotated = next.refreshToken !== undefined && next.refreshToken !== refreshToken
  return { tokens: next, rotatedFrom: rotated ? refreshToken : undefined }
}

/** Runs the client-credentials grant; for refresh-only providers, follows with the exchange. */
export async function clientCredentialsTokens(
  app: ResolvedApp,
  scopes: string[],
  metadata: Record<string, unknown>,
  now: () => number,
): Promise<TokenSet> {
  const scope = clientCredentialsScope(app, scopes)
  const first = await grantRequest(app, 'client_credentials', { scope }, metadata, now)
  if (first.accessToken) return first
  return (await exchangeRefreshToken(app, first, metadata, now)).tokens
}

/** New tokens for a connection whose access token is due (or was refused). */
export async function renewTokens(
  app: ResolvedApp,
  record: ConnectionRecord,
  now: () => number,
): Promise<RenewResult> {
  const tokens = record.tokens
  if (app.provider.refresh.renewWith === 'client_credentials') {
    return { tokens: await clientCredentialsTokens(app, record.scopes, record.metadata, now) }
  }
  const renewalDue = tokens ? refreshTokenRenewalDueAt(tokens) : undefined
  const refreshTokenEnding = !tokens?.refreshToken || (renewalDue !== undefined && now() >= renewalDue)
  if (refreshTokenEnding && renewsByClientCredentials(app.provider, record.metadata)) {
    return { tokens: await clientCredentialsTokens(app, record.scopes, record.metadata, now) }
  }
  // A client-credentials connection without a refresh token (BookingSync's public-scope token)
  // is renewed the way it was made: no person is needed.
  if (!tokens?.refreshToken && record.metadata.grant === 'client_credentials') {
    return { tokens: await clientCredentialsTokens(app, record.scopes, record.metadata, now) }
  }
  if (!tokens?.refreshToken) {
    throw new NeedsReauthError(
      `Connection ${record.id} has no refresh token, so it cannot be renewed. Connect it again: ${reconnectCommand(record, app.provider)}.`,
    )
  }
  if (tokens.refreshTokenExpiresAt !== undefined && now() >= tokens.refreshTokenExpiresAt) {
    throw new NeedsReauthError(
      `The refresh token of ${record.id} expired. Connect it again: ${reconnectCommand(record, app.provider)}.`,
    )
  }
  try {
    return await exchangeRefreshToken(app, tokens, record.metadata, now)
  } catch (error) {
    // Only where the provider keeps a rotated token valid for a while is retrying with it safe:
    // elsewhere a reused refresh token revokes the whole family.
    const useGrace =
      error instanceof TokenEndpointError &&
      error.code === 'invalid_grant' &&
      app.provider.refresh.previousTokenGrace &&
      record.previousRefreshToken
    if (!useGrace) throw error
    return exchangeRefreshToken(app, tokens, record.metadata, now, record.previousRefreshToken)
  }
}
