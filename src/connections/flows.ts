// How a connection is made: the authorization-code flow (start: a URL and a pending state kept
// in the store for 10 minutes; complete: the code, checked against that state), and the
// client-credentials flow (bookingtime's two steps, BookyFlow with its channel announce).
// Both run the provider's post-connect steps and commit the tokens before returning.
import { randomBytes } from 'node:crypto'
import { ConfigError, InnkeeperError, isTransient, StoreError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import { buildAuthorizationUrl } from '../oauth/authorize.js'
import { excerpt } from '../oauth/errors.js'
import { createPkcePair, createState } from '../oauth/pkce.js'
import { type ConnectGrant, connectGrantsOf } from '../providers/grants.js'
import type { ProviderDefinition } from '../providers/schema.js'
import type { ConnectionRecord } from '../stores/store.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import {
  adoptGrant,
  applicableSteps,
  connectionWithIdentity,
  dueAt,
  INSTALLED_FROM,
  installIdentity,
  PENDING_STEPS,
} from './pending-steps.js'
import { runPostConnectSteps } from './post-connect.js'
import { clientCredentialsTokens, exchangeRefreshToken, grantRequest } from './renew.js'
import { errorSummary } from './token-keeper.js'
import { toConnectionInfo } from './view.js'

export const PENDING_AUTHORIZATION_MS = 10 * 60_000

export interface ConnectOptions {
  /** The connection's name within the app (default `main`). */
  name?: string
  scopes?: string[]
  /** Override the app's redirect URI for this authorization (e.g. a loopback listener). */
  redirectUri?: string
  /** Extra authorize-URL parameters (e.g. BookingSync's `account_id`). */
  authorizeParams?: Record<string, string>
  /**
   * Connect with a static API key instead (providers whose definition declares `apiKey`, e.g.
   * Booking Experts): stored sealed, never refreshed.
   */
  apiKey?: string
  /**
   * The grant that makes the connection, where the provider offers several (bookingtime: user
   * authentication with `authorization_code`; generic `oauth2`). Default: the provider's.
   */
  grant?: ConnectGrant
  /**
   * `false`: refuse (`conflict`) rather than replace an existing connection of the same name
   * (connect links). Default: a new grant replaces it (the owner's reconnect).
   */
  replace?: boolean
  /** Provider connect options: bookingtime's `organizationId`, BookyFlow's `channel`. */
  [option: string]: unknown
}

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

export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function connectionId(app: string, name = 'main'): string {
  return `${app}/${name}`
}

function providerOptions(app: ResolvedApp, options: ConnectOptions): Record<string, string> {
  const out: Record<string, string> = {}
  for (const option of app.provider.connectOptions) {
    const value = options[option.name]
    if (value !== undefined && value !== null && value !== '') out[option.name] = String(value)
  }
  return out
}

/** Connect options the provider also sends on the authorize URL (BookingSync's `account_id`). */
function authorizeParamsFromOptions(app: ResolvedApp, options: ConnectOptions): Record<string, string> {
  const out: Record<string, string> = {}
  for (const option of app.provider.connectOptions) {
    const value = options[option.name]
    if (option.authorizeParam && value !== undefined && value !== null && value !== '') {
      out[option.authorizeParam] = String(value)
    }
  }
  return out
}

function requireConnectOptions(app: ResolvedApp, options: Record<string, string>): void {
  const missing = app.provider.connectOptions.filter((option) => option.required && !options[option.name])
  if (missing.length > 0) {
    const list = missing
      .map((option) => `${option.name} (${option.description}; CLI --${option.flag})`)
      .join(', ')
    throw new ConfigError('invalid_config', `Connecting a ${app.provider.displayName} app needs ${list}.`)
  }
}

/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`; any such scope may be asked for. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

const GRANT_WORDS: Record<ConnectGrant, string> = {
  authorization_code: 'an authorization in the browser (authorization_code)',
  client_credentials: 'the app’s own credentials (client_credentials)',
}

/** What the provider definition says to anyone connecting with this grant (at most one sentence). */
export function connectNotices(provider: ProviderDefinition, grant: ConnectGrant): string[] {
  const notice = provider.connectNotices[grant]
  return notice ? [notice] : []
}

/** Refuses a grant the provider definition does not offer for connecting, naming those it does. */
export function requireConnectGrant(app: ResolvedApp, grant: ConnectGrant): void {
  const offered = connectGrantsOf(app.provider)
  if (offered.includes(grant)) return
  throw new ConfigError(
    'invalid_config',
    `${app.provider.displayName} apps do not connect with ${grant}; they connect with ${offered.map((g) => GRANT_WORDS[g]).join(' or ')}.`,
    { details: { grant, offered } },
  )
}

export function chooseScopes(app: ResolvedApp, requested?: string[]): string[] {
  const scopes = [...new Set(requested ?? app.record.scopes ?? app.provider.scopes.default)]
  const malformed = scopes.find((scope) => !SCOPE_TOKEN.test(scope))
  if (malformed !== undefined) {
    throw new ConfigError(
      'invalid_scope',
      `${JSON.stringify(malformed)} is not a valid scope: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3). Separate several scopes with spaces.`,
    )
  }
  const unknown = unknownScopes(app.provider, scopes)
  if (unknown.length > 0 && app.provider.scopes.unknown === 'refuse') {
    throw new ConfigError(
      'invalid_scope',
      `${app.provider.displayName} does not know the scope${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}. Known scopes: ${app.provider.scopes.known.join(', ')}.`,
    )
  }
  return scopes
}

/** Scopes outside the provider definition's known list (none when it lists none). */
export function unknownScopes(provider: ProviderDefinition, scopes: string[]): string[] {
  const known = provider.scopes.known
  return known.length > 0 ? scopes.filter((scope) => !known.includes(scope)) : []
}

/**
 * The warning for scopes the provider definition does not list, where it passes them on
 * (`scopes.unknown: 'warn'`): the platform may know them, or refuse them with `invalid_scope`.
 */
export function scopeWarnings(provider: ProviderDefinition, scopes: string[]): string[] {
  const unknown = provider.scopes.unknown === 'warn' ? unknownScopes(provider, scopes) : []
  if (unknown.length === 0) return []
  const plural = unknown.length > 1
  return [
    `${provider.displayName} does not list the scope${plural ? 's' : ''} ${unknown.join(', ')} among its known scopes; Innkeeper asks for ${plural ? 'them' : 'it'} anyway, and the platform may refuse (invalid_scope). Known scopes: ${provider.scopes.known.join(', ')}.`,
  ]
}

export function checkName(name: string): string {
  if (!CONNECTION_NAME.test(name)) {
    throw new ConfigError(
      'invalid_config',
      `"${name}" is not a valid connection name: use letters, digits, ".", "_" or "-".`,
    )
  }
  return name
}

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
 * Saves a grant whose access token could not be had yet (state `error`, due again in 30 s): the
 * refresher and the next use exchange it again, and the provider's post-connect steps wait for
 * that token. Then says what happened.
 */
async function keepGrantAwaitingAccessToken(
  ctx: KeeperContext,
  app: ResolvedApp,
  name: string,
  tokens: TokenSet,
  scopes: string[],
  metadata: Record<string, unknown>,
  error: unknown,
  saveOptions: { replace?: boolean } = {},
): Promise<never> {
  const steps = applicableSteps(app, metadata)
  const withSteps = steps.length > 0 ? { ...metadata, [PENDING_STEPS]: steps } : metadata
  const id = connectionId(app.record.name, name)
  const keep = saveOptions.replace === false
  const existing = keep ? null : await ctx.store.getConnection(id)
  const now = ctx.now()
  const record: ConnectionRecord = {
    ...newRecord(ctx, app, name, tokens, scopes, withSteps, undefined, existing),
    state: 'error',
    failures: 1,
    lastError: { ...errorSummary(error, now), since: now },
    refreshDueAt: now + 30_000,
  }
  const saved = await saveConnectionRecord(ctx, record, keep, app.provider.name)
  ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, now))
  const reason = error instanceof Error ? error.message : 'unknown error'
  throw new InnkeeperError(
    error instanceof InnkeeperError ? error.code : 'provider_unavailable',
    `Authorized ${id} and kept its grant, but the access token could not be had yet (it is tried again shortly, or run \`innkeeper refresh ${id}\`): ${reason}`,
    { cause: error },
  )
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
  const fallback = identity ? `install-${identity}` : error ? 'install-pending' : 'install'
  const first = checkName(preferredName ?? fallback)
  for (let attempt = 0; attempt < 5; attempt++) {
    // A first choice only while free, then the same with a random suffix: never someone else's name.
    const name =
      attempt === 0 && (identity || preferredName) ? first : `${first}-${randomBytes(4).toString('hex')}`
    if (name.length > 64) break
    const record = newRecord(ctx, app, name, tokens, chooseScopes(app), full, error)
    try {
      const saved = await ctx.saveWithEvents(record, 0, ['connected'], app.provider.name)
      ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, ctx.now()))
      return saved
    } catch (caught) {
      if (!(caught instanceof StoreError && caught.code === 'conflict')) throw caught
    }
  }
  throw new InnkeeperError(
    'conflict',
    'Could not find a free name for the installed connection. Install the app again.',
  )
}

export async function connectWithClientCredentials(
  ctx: KeeperContext,
  appName: string,
  options: ConnectOptions = {},
): Promise<ConnectionRecord> {
  const app = await ctx.resolveApp(appName)
  requireConnectGrant(app, 'client_credentials')
  const extra = providerOptions(app, options)
  requireConnectOptions(app, extra)
  const scopes = chooseScopes(app, options.scopes ?? app.provider.scopes.forClientCredentials)
  const metadata: Record<string, unknown> = { ...extra, grant: 'client_credentials' }
  const tokens = await clientCredentialsTokens(app, scopes, metadata, ctx.now)
  return finishConnect(ctx, app, checkName(options.name ?? 'main'), tokens, scopes, metadata, extra, {
    replace: options.replace,
  })
}

/** Runs the provider's post-connect steps; a failure is returned with the steps marked pending. */
async function postConnect(
  ctx: KeeperContext,
  app: ResolvedApp,
  tokens: TokenSet,
  metadata: Record<string, unknown>,
  options: Record<string, string>,
): Promise<{ metadata: Record<string, unknown>; error?: unknown }> {
  try {
    return { metadata: await runPostConnectSteps(app, tokens.accessToken!, metadata, options, ctx.now) }
  } catch (error) {
    return { metadata: { ...metadata, [PENDING_STEPS]: applicableSteps(app, options) }, error }
  }
}

function newRecord(
  ctx: KeeperContext,
  app: ResolvedApp,
  name: string,
  tokens: TokenSet,
  scopes: string[],
  metadata: Record<string, unknown>,
  stepError: unknown,
  existing?: ConnectionRecord | null,
): ConnectionRecord {
  const now = ctx.now()
  return {
    id: connectionId(app.record.name, name),
    app: app.record.name,
    name,
    state: 'active',
    tokens,
    scopes: tokens.scope ?? scopes,
    metadata,
    lastError: stepError ? errorSummary(stepError, now) : undefined,
    failures: 0,
    refreshDueAt: dueAt(tokens, metadata, app, now),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    lastRefreshAt: now,
    version: existing?.version ?? 0,
  }
}

/** Saves a new grant; with `keepExisting` only while the name is free (else `conflict`, nothing changed). */
async function saveConnectionRecord(
  ctx: KeeperContext,
  record: ConnectionRecord,
  keepExisting: boolean,
  provider: string,
): Promise<ConnectionRecord> {
  try {
    // Its `connection.created` webhook event is written with it.
    return await ctx.saveWithEvents(record, keepExisting ? 0 : undefined, ['connected'], provider)
  } catch (error) {
    if (keepExisting && error instanceof StoreError && error.code === 'conflict') {
      throw new InnkeeperError(
        'conflict',
        `A connection named ${record.id} already exists and this connect link may not replace it; nothing was changed. Ask for a new link with another name.`,
      )
    }
    throw error
  }
}

async function finishConnect(
  ctx: KeeperContext,
  app: ResolvedApp,
  name: string,
  tokens: TokenSet,
  scopes: string[],
  metadata: Record<string, unknown>,
  options: Record<string, string>,
  saveOptions: { replace?: boolean } = {},
): Promise<ConnectionRecord> {
  const { metadata: fullMetadata, error: postConnectError } = await postConnect(
    ctx,
    app,
    tokens,
    metadata,
    options,
  )
  const id = connectionId(app.record.name, name)
  const keep = saveOptions.replace === false
  const existing = keep ? null : await ctx.store.getConnection(id)
  const record = newRecord(ctx, app, name, tokens, scopes, fullMetadata, postConnectError, existing)
  // Replacing an existing connection here is the owner's reconnect (the flow carried the state
  // of an authorization started by them): the new grant supersedes it. With `replace: false`
  // (a connect link) the name must still be free when the tokens arrive.
  const saved = await saveConnectionRecord(ctx, record, keep, app.provider.name)
  ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, ctx.now()))
  if (postConnectError) {
    const reason = postConnectError instanceof Error ? postConnectError.message : 'unknown error'
    throw new InnkeeperError(
      postConnectError instanceof InnkeeperError ? postConnectError.code : 'provider_unavailable',
      `Connected ${id} and saved its tokens, but a follow-up step failed (it is tried again later): ${reason}`,
      { cause: postConnectError },
    )
  }
  return saved
}
