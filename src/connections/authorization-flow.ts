// The authorization-code flow: start (a URL, and a pending state kept in the store for 10
// minutes), complete (the code, checked against that state, exchanged for tokens), and the
// install callback a platform sends on its own (Booking Experts' App Store: a code and nothing
// else). The tokens are committed by `finish-connect.ts`.
import { ConfigError, InnkeeperError, isInnkeeperError, isTransient } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import { buildAuthorizationUrl } from '../oauth/authorize.js'
import { excerpt } from '../oauth/errors.js'
import { createPkcePair, createState } from '../oauth/pkce.js'
import type { ConnectionRecord } from '../stores/store.js'
import {
  authorizeParamsFromOptions,
  type ConnectOptions,
  chooseScopes,
  connectNotices,
  providerOptions,
  requireConnectGrant,
  requireConnectOptions,
  scopeWarnings,
} from './connect-request.js'
import { checkName, installNameCandidates } from './connection-id.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import { finishConnect, keepGrantAwaitingAccessToken, newRecord, postConnect } from './finish-connect.js'
import { adoptGrant, connectionWithIdentity, INSTALLED_FROM, installIdentity } from './pending-steps.js'
import { exchangeRefreshToken, grantRequest } from './renew.js'
import { toConnectionInfo } from './view.js'

export const PENDING_AUTHORIZATION_MS = 10 * 60_000

export interface AuthorizationStart {
  url: string
  state: string
  redirectUri: string
  expiresAt: number
  /** Things the person should know before authorizing (scopes the provider does not list). */
  warnings: string[]
}

/** What the redirect brought back: the callback URL, its query, or the code alone. */
export type AuthorizationResponse =
  | string
  | URLSearchParams
  | { code?: string; state?: string; error?: string; error_description?: string }

export async function startAuthorization(
  ctx: KeeperContext,
  appName: string,
  options: ConnectOptions = {},
): Promise<AuthorizationStart> {
  const app = await ctx.resolveApp(appName)
  requireConnectGrant(app, 'authorization_code')
  if (!app.endpoints.authorizeUrl) {
    throw new ConfigError(
      'invalid_config',
      `The app ${appName} has no authorization URL. Add it with --authorize-url (the address of ${app.provider.displayName}'s authorization page).`,
    )
  }
  // Everything the code exchange needs is asked for now, before a person approves and the
  // single-use code is spent (bookingtime's organization).
  requireConnectOptions(app, providerOptions(app, options))
  const redirectUri =
    options.redirectUri ?? app.record.redirectUri ?? app.provider.authorization.defaultRedirectUri
  if (!redirectUri) {
    throw new ConfigError(
      'invalid_config',
      `The app ${appName} has no redirect URI. Add it with the URI registered on ${app.provider.displayName} (--redirect-uri).`,
    )
  }
  const scopes = chooseScopes(app, options.scopes)
  const pkce = app.provider.authorization.pkce ? await createPkcePair() : undefined
  const state = createState()
  const now = ctx.now()
  const expiresAt = now + PENDING_AUTHORIZATION_MS
  await ctx.store.putPendingAuthorization({
    state,
    app: appName,
    name: checkName(options.name ?? 'main'),
    redirectUri,
    scopes,
    codeVerifier: pkce?.codeVerifier,
    options: providerOptions(app, options),
    createdAt: now,
    expiresAt,
  })
  const url = buildAuthorizationUrl({
    provider: app.provider,
    authorizeUrl: app.endpoints.authorizeUrl,
    clientId: app.record.clientId,
    redirectUri,
    scopes,
    state,
    codeChallenge: pkce?.codeChallenge,
    extraParams: { ...authorizeParamsFromOptions(app, options), ...options.authorizeParams },
  })
  return {
    url,
    state,
    redirectUri,
    expiresAt,
    warnings: [...connectNotices(app.provider, 'authorization_code'), ...scopeWarnings(app.provider, scopes)],
  }
}

function readResponse(input: AuthorizationResponse): {
  code?: string
  state?: string
  error?: string
  error_description?: string
} {
  if (typeof input === 'object' && !(input instanceof URLSearchParams)) return input
  let params: URLSearchParams
  if (input instanceof URLSearchParams) params = input
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) params = new URL(input).searchParams
  else if (input.includes('=')) params = new URLSearchParams(input.replace(/^\?/, ''))
  else return { code: input.trim() }
  const get = (key: string) => params.get(key) ?? undefined
  return {
    code: get('code'),
    state: get('state'),
    error: get('error'),
    error_description: get('error_description'),
  }
}

const CALLBACK_ERRORS: Record<string, string> = {
  access_denied: 'The account owner did not grant access.',
  invalid_scope: 'The platform refused the requested scopes.',
  unauthorized_client: 'The platform does not allow this app to ask for a code.',
  unsupported_response_type: 'The platform does not support this kind of authorization.',
  invalid_request: 'The platform found the authorization request malformed.',
  server_error: 'The platform failed while authorizing.',
  temporarily_unavailable: 'The platform is temporarily unavailable.',
}

function callbackError(error: string, description?: string): InnkeeperError {
  const code = error === 'access_denied' || error === 'invalid_scope' ? error : 'invalid_request'
  const reason = CALLBACK_ERRORS[error] ?? `The platform answered "${error.slice(0, 60)}".`
  const said = description ? ` It said: "${excerpt(description)}".` : ''
  return new InnkeeperError(
    code,
    `${reason}${said} Nothing was stored; start the connection again when ready.`,
    {
      details: { error: error.slice(0, 60) },
    },
  )
}

/**
 * Completes an authorization: `state` must match a pending one (single use, 10 minutes);
 * `fallbackState` is used when the response carries none (out-of-band codes are pasted alone).
 */
export async function completeAuthorization(
  ctx: KeeperContext,
  input: AuthorizationResponse,
  fallbackState?: string,
  /** The app whose callback this is (per-app callback URLs): a state of another app is refused. */
  expectedApp?: string,
  /** `replace: false` refuses to replace an existing connection of the same name. */
  saveOptions: { replace?: boolean } = {},
): Promise<ConnectionRecord> {
  const response = readResponse(input)
  const state = response.state ?? fallbackState
  if (!state)
    throw new InnkeeperError(
      'invalid_state',
      'The authorization response has no state. Start the connection again.',
    )
  if (response.state && fallbackState && response.state !== fallbackState) {
    throw new InnkeeperError(
      'invalid_state',
      'The authorization response belongs to another authorization. Start the connection again.',
    )
  }
  const pending = await ctx.store.takePendingAuthorization(state, ctx.now())
  if (!pending) {
    throw new InnkeeperError(
      'invalid_state',
      'This authorization is unknown, was already used, or expired (they last 10 minutes). Start the connection again.',
    )
  }
  if (expectedApp && pending.app !== expectedApp) {
    throw new InnkeeperError(
      'invalid_state',
      `This callback belongs to another app than ${expectedApp}. Start the connection again.`,
    )
  }
  if (response.error) throw callbackError(response.error, response.error_description)
  if (!response.code)
    throw new InnkeeperError(
      'invalid_request',
      'The authorization response has no code. Start the connection again.',
    )

  const app = await ctx.resolveApp(pending.app)
  // The platform may want this redirect URI again on every refresh (BookingSync): keep it.
  const metadata: Record<string, unknown> = {
    ...pending.options,
    grant: 'authorization_code',
    redirectUri: pending.redirectUri,
  }
  let tokens = await grantRequest(
    app,
    'authorization_code',
    { code: response.code, redirect_uri: pending.redirectUri, code_verifier: pending.codeVerifier },
    metadata,
    ctx.now,
  )
  if (!tokens.accessToken) {
    try {
      tokens = (await exchangeRefreshToken(app, tokens, metadata, ctx.now)).tokens
    } catch (error) {
      // The code is spent and the person's grant is in hand (bookingtime's refresh token): a
      // transient failure of the second step keeps it, to be exchanged again later.
      if (!isTransient(error)) throw error
      return keepGrantAwaitingAccessToken(
        ctx,
        app,
        pending.name,
        tokens,
        pending.scopes,
        metadata,
        error,
        saveOptions,
      )
    }
  }
  return finishConnect(ctx, app, pending.name, tokens, pending.scopes, metadata, pending.options, saveOptions)
}

/**
 * Completes an install started on the platform's side (Booking Experts' App Store): the callback
 * carries a code and nothing else, so there is no pending state to check. Allowed only where the
 * provider definition says the platform does this; the code is bound to the app's registered
 * redirect URI, which the platform checks on exchange. A callback with a state goes the usual way.
 */
export async function completeInstallCallback(
  ctx: KeeperContext,
  appName: string,
  input: AuthorizationResponse,
  options: { name?: string } = {},
): Promise<ConnectionRecord> {
  const response = readResponse(input)
  if (response.state) return completeAuthorization(ctx, input, undefined, appName)
  const app = await ctx.resolveApp(appName)
  if (!app.provider.authorization.installCallbacks) {
    throw new InnkeeperError(
      'invalid_state',
      `${app.provider.displayName} callbacks must carry the state of an authorization started here. Start the connection again.`,
    )
  }
  if (response.error) throw callbackError(response.error)
  if (!response.code)
    throw new InnkeeperError('invalid_request', 'The install callback has no code. Install the app again.')
  const redirectUri = app.record.redirectUri
  if (!redirectUri) {
    throw new ConfigError(
      'invalid_config',
      `The app ${appName} has no redirect URI: add the one registered on ${app.provider.displayName}.`,
    )
  }
  const metadata: Record<string, unknown> = { grant: 'authorization_code', [INSTALLED_FROM]: 'platform' }
  const tokens = await grantRequest(
    app,
    'authorization_code',
    { code: response.code, redirect_uri: redirectUri },
    metadata,
    ctx.now,
  )
  return finishInstall(ctx, app, tokens, metadata, options.name)
}

/**
 * Where an install's tokens go (an unauthenticated callback never takes
 * over a name): the connection that already holds its subscription is updated; a new one gets
 * `install-<subscription>` (or the name asked for) when free; when the subscription cannot be
 * read, the tokens wait under `install-pending-<random>` with the steps marked pending.
 */
async function finishInstall(
  ctx: KeeperContext,
  app: ResolvedApp,
  tokens: TokenSet,
  metadata: Record<string, unknown>,
  preferredName?: string,
): Promise<ConnectionRecord> {
  const { metadata: full, error } = await postConnect(ctx, app, tokens, metadata, {})
  const identity = error ? undefined : installIdentity(app, full)
  if (identity) {
    const holder = await connectionWithIdentity(ctx, app, identity)
    if (holder) {
      const saved = await adoptGrant(ctx, app, holder, tokens, chooseScopes(app), full)
      return saved
    }
  }
  // A first choice only while free, then the same with a random suffix: never someone else's name.
  for (const name of installNameCandidates(identity, Boolean(error), preferredName)) {
    const record = newRecord(ctx, app, name, tokens, chooseScopes(app), full, error)
    try {
      const saved = await ctx.saveWithEvents(record, 0, ['connected'], app.provider.name)
      ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, ctx.now()))
      return saved
    } catch (caught) {
      if (!(isInnkeeperError(caught) && caught.code === 'conflict')) throw caught
    }
  }
  throw new InnkeeperError(
    'conflict',
    'Could not find a free name for the installed connection. Install the app again.',
  )
}
