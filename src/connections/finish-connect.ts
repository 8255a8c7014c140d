// How every connect ends: the provider's post-connect steps run with the new access token (a
// failure keeps the tokens and marks the steps pending), then the record is saved with its
// `connection.created` webhook event; a reconnect replaces the connection of the same name unless
// the caller asked to keep it (connect links). The client-credentials flow is here too: it is a
// token request followed by this end.
import { InnkeeperError, isInnkeeperError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { ConnectionRecord } from '../stores/store.js'
import {
  type ConnectOptions,
  chooseScopes,
  providerOptions,
  requireConnectGrant,
  requireConnectOptions,
} from './connect-request.js'
import { checkName, connectionId } from './connection-id.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import { errorSummary } from './keeper-errors.js'
import { applicableSteps, dueAt, PENDING_STEPS } from './pending-steps.js'
import { runPostConnectSteps } from './post-connect.js'
import { clientCredentialsTokens } from './renew.js'
import { toConnectionInfo } from './view.js'

/**
 * Saves a grant whose access token could not be had yet (state `error`, due again in 30 s): the
 * refresher and the next use exchange it again, and the provider's post-connect steps wait for
 * that token. Then says what happened.
 */
export async function keepGrantAwaitingAccessToken(
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
  await saveNewGrant(ctx, app, name, saveOptions, (existing) => {
    const now = ctx.now()
    return {
      ...newRecord(ctx, app, name, tokens, scopes, withSteps, undefined, existing),
      state: 'error',
      failures: 1,
      lastError: { ...errorSummary(error, now), since: now },
      refreshDueAt: now + 30_000,
    }
  })
  const reason = error instanceof Error ? error.message : 'unknown error'
  throw new InnkeeperError(
    isInnkeeperError(error) ? error.code : 'provider_unavailable',
    `Authorized ${id} and kept its grant, but the access token could not be had yet (it is tried again shortly, or run \`innkeeper refresh ${id}\`): ${reason}`,
    { cause: error },
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
export async function postConnect(
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

export function newRecord(
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
  const record: ConnectionRecord = {
    id: connectionId(app.record.name, name),
    app: app.record.name,
    name,
    state: 'active',
    tokens,
    scopes: tokens.scope ?? scopes,
    metadata,
    lastError: stepError ? errorSummary(stepError, now) : undefined,
    failures: 0,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    lastRefreshAt: now,
    // A new grant counts as used when it is made: the person connecting is about to use it.
    lastUsedAt: now,
    version: existing?.version ?? 0,
  }
  return { ...record, refreshDueAt: dueAt(record, app, now) }
}

/**
 * Saves a new grant as `<app>/<name>`, built onto the connection it replaces, and says so
 * (`connected`). Replacing an existing connection here is the owner's reconnect (the flow carried
 * the state of an authorization started by them): the new grant supersedes it. With
 * `replace: false` (a connect link) the name must still be free when the tokens arrive.
 */
async function saveNewGrant(
  ctx: KeeperContext,
  app: ResolvedApp,
  name: string,
  saveOptions: { replace?: boolean },
  build: (existing: ConnectionRecord | null) => ConnectionRecord,
): Promise<ConnectionRecord> {
  const keep = saveOptions.replace === false
  const existing = keep ? null : await ctx.store.getConnection(connectionId(app.record.name, name))
  const saved = await saveConnectionRecord(ctx, build(existing), keep, app.provider.name)
  ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, ctx.now()))
  return saved
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
    if (keepExisting && isInnkeeperError(error) && error.code === 'conflict') {
      throw new InnkeeperError(
        'conflict',
        `A connection named ${record.id} already exists and this connect link may not replace it; nothing was changed. Ask for a new link with another name.`,
      )
    }
    throw error
  }
}

export async function finishConnect(
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
  const saved = await saveNewGrant(ctx, app, name, saveOptions, (existing) =>
    newRecord(ctx, app, name, tokens, scopes, fullMetadata, postConnectError, existing),
  )
  if (postConnectError) {
    const reason = postConnectError instanceof Error ? postConnectError.message : 'unknown error'
    throw new InnkeeperError(
      isInnkeeperError(postConnectError) ? postConnectError.code : 'provider_unavailable',
      `Connected ${id} and saved its tokens, but a follow-up step failed (it is tried again later): ${reason}`,
      { cause: postConnectError },
    )
  }
  return saved
}
