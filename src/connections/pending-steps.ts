// Post-connect steps that failed and are run again later (Booking Experts' `/v3/subscription`
// after an App Store install): a connection keeps its tokens and names the steps still owed in
// `metadata.pendingSteps`; the background refresher and the next use of the connection run them
// again. An install's identity (its subscription) may turn out to be connected already: that
// connection then takes the newer grant and the pending one is removed, so one organization
// never holds two connections (names are never taken over by an install).
import { InnkeeperError, isInnkeeperError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { ConnectionRecord } from '../stores/store.js'
import type { KeeperContext, ResolvedApp } from './context.js'
import { errorSummary } from './keeper-errors.js'
import { runPostConnectSteps } from './post-connect.js'
import { nextRefreshDue, type RefreshFacts } from './refresh-policy.js'
import { toConnectionInfo } from './view.js'

/** Metadata key listing the post-connect steps still owed. */
export const PENDING_STEPS = 'pendingSteps'
/** How long after a failed attempt the steps are tried again. */
export const PENDING_RETRY_MS = 60_000
/** Metadata mark of a connection made by an install started on the platform's side. */
export const INSTALLED_FROM = 'installedFrom'

export function pendingSteps(record: { metadata: Record<string, unknown> }): string[] {
  const value = record.metadata[PENDING_STEPS]
  return Array.isArray(value) ? value.map(String) : []
}

/** The steps a connect runs for these options (a step with `when` only when its option is set). */
export function applicableSteps(app: ResolvedApp, options: Record<string, unknown>): string[] {
  return app.provider.postConnect
    .filter((step) => !step.when || (options[step.when] !== undefined && options[step.when] !== ''))
    .map((step) => step.name)
}

/** When the refresher should next look: what the refresh policy says, or sooner while steps are owed. */
export function dueAt(record: RefreshFacts, app: ResolvedApp, now: number): number | undefined {
  const due = nextRefreshDue(record, app)
  if (pendingSteps(record).length === 0) return due
  return Math.min(due ?? Number.POSITIVE_INFINITY, now + PENDING_RETRY_MS)
}

/** The value that identifies an install (Booking Experts: its subscription id), if the provider names one. */
export function installIdentity(app: ResolvedApp, metadata: Record<string, unknown>): string | undefined {
  const key = app.provider.authorization.installNameFrom
  const value = key ? metadata[key] : undefined
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
}

/** Another connection of the app that already holds this identity. */
export async function connectionWithIdentity(
  ctx: KeeperContext,
  app: ResolvedApp,
  identity: string,
  except?: string,
): Promise<ConnectionRecord | undefined> {
  const key = app.provider.authorization.installNameFrom
  if (!key) return undefined
  const connections = await ctx.store.listConnections({ app: app.record.name })
  return connections.find(
    (connection) =>
      connection.id !== except &&
      connection.metadata[key] !== undefined &&
      String(connection.metadata[key]) === identity,
  )
}

/** The existing connection of the same identity takes a newer grant from an install (name and history kept). */
export async function adoptGrant(
  ctx: KeeperContext,
  app: ResolvedApp,
  target: ConnectionRecord,
  tokens: TokenSet,
  scopes: string[],
  metadata: Record<string, unknown>,
): Promise<ConnectionRecord> {
  let base = target
  for (let tries = 0; ; tries++) {
    const now = ctx.now()
    const merged = { ...base.metadata, ...metadata }
    delete merged[PENDING_STEPS]
    const adopted: ConnectionRecord = {
      ...base,
      state: 'active',
      tokens,
      previousRefreshToken: undefined,
      scopes: tokens.scope ?? scopes,
      metadata: merged,
      lastError: undefined,
      failures: 0,
      updatedAt: now,
      lastRefreshAt: now,
    }
    const next = { ...adopted, refreshDueAt: dueAt(adopted, app, now) }
    try {
      const saved = await ctx.saveWithEvents(next, base.version, ['connected'], app.provider.name)
      ctx.events.emit('connected', toConnectionInfo(saved, app.provider.name, now))
      return saved
    } catch (error) {
      if (!(isInnkeeperError(error) && error.code === 'conflict') || tries >= 5) throw error
      const latest = await ctx.store.getConnection(target.id)
      if (!latest) throw error
      base = latest
    }
  }
}

export interface PendingOutcome {
  record: ConnectionRecord
  /** The connection that took this one's grant (the pending one is gone). */
  movedTo?: string
}

/**
 * Runs a connection's owed post-connect steps again with its current access token. A failure is
 * recorded (and retried after PENDING_RETRY_MS), never thrown; a change by someone else meanwhile
 * wins. Returns the record as it now stands.
 */
export async function completePendingSteps(
  ctx: KeeperContext,
  app: ResolvedApp,
  record: ConnectionRecord,
): Promise<PendingOutcome> {
  const accessToken = record.tokens?.accessToken
  if (pendingSteps(record).length === 0 || !accessToken) return { record }
  const now = ctx.now()
  let metadata: Record<string, unknown>
  try {
    metadata = await runPostConnectSteps(
      app,
      accessToken,
      record.metadata,
      stringOptions(record.metadata),
      ctx.now,
    )
  } catch (error) {
    const failed: ConnectionRecord = {
      ...record,
      lastError: errorSummary(error, now),
      refreshDueAt: Math.min(record.refreshDueAt ?? Number.POSITIVE_INFINITY, now + PENDING_RETRY_MS),
      updatedAt: now,
    }
    return { record: await saveIfUnchanged(ctx, record, failed) }
  }
  delete metadata[PENDING_STEPS]

  const identity = record.metadata[INSTALLED_FROM] ? installIdentity(app, metadata) : undefined
  const holder = identity ? await connectionWithIdentity(ctx, app, identity, record.id) : undefined
  if (holder && record.tokens) {
    const target = await adoptGrant(ctx, app, holder, record.tokens, record.scopes, metadata)
    await ctx.deleteWithEvents(record, false, app.provider.name)
    ctx.events.emit(
      'disconnected',
      toConnectionInfo({ ...record, state: 'revoked' }, app.provider.name, now),
      {
        revoked: false,
      },
    )
    return { record: target, movedTo: target.id }
  }
  const resolved: ConnectionRecord = {
    ...record,
    metadata,
    lastError: undefined,
    refreshDueAt: dueAt({ ...record, metadata }, app, now),
    updatedAt: now,
  }
  return { record: await saveIfUnchanged(ctx, record, resolved) }
}

/** The error a caller of a pending connection gets once its grant moved to the connection of its identity. */
export function movedError(id: string, movedTo: string): InnkeeperError {
  return new InnkeeperError(
    'unknown_connection',
    `${id} turned out to be an install that is already connected as ${movedTo}; that connection now holds its grant. Use ${movedTo}.`,
    { details: { movedTo } },
  )
}

async function saveIfUnchanged(
  ctx: KeeperContext,
  before: ConnectionRecord,
  next: ConnectionRecord,
): Promise<ConnectionRecord> {
  try {
    return await ctx.store.saveConnection(next, before.version)
  } catch (error) {
    if (!(isInnkeeperError(error) && error.code === 'conflict')) throw error
    return (await ctx.store.getConnection(before.id)) ?? before
  }
}

/** Connect options were saved as metadata strings; the steps' `when` and templates read them. */
function stringOptions(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(metadata)) if (typeof value === 'string') out[key] = value
  return out
}
