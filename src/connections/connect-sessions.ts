// Connect sessions: single-use links that let an end user (not the operator) connect one app on a
// plain page of `innkeeper serve` (`POST /api/connect-sessions`, `innkeeper connect-link`).
// The link carries a random token (256 bits); the store keeps only its SHA-256 as the document id
// (collection `connect_sessions`) with the app, the connection name, fixed connect options, the
// return URL, who created it, its expiry and, once used, `usedAt` (set atomically by
// `useDocumentOnce`, so a double submit starts one connection). An authorization it starts is
// bound to it by the OAuth `state` (collection `connect_session_states`), so the callback knows
// which session it completes. A session never replaces an existing connection unless it was created with `replace: true`.
// Both are deleted a day after they expire by connect-session-sweep.ts (workers and `serve`, hourly).
import { createHash, randomBytes } from 'node:crypto'
import { ConfigError, InnkeeperError } from '../errors.js'
import type { ProviderCatalogue } from '../providers/registry.js'
import type { Store } from '../stores/store.js'
import type { Apps } from './apps.js'
import { CONNECT_SESSION_STATES_COLLECTION, CONNECT_SESSIONS_COLLECTION } from './connect-session-sweep.js'
import { checkName, connectionId, linkConnectionName } from './connection-id.js'
import { allowedReturnUrl, returnUrlAllowList } from './return-urls.js'

export const DEFAULT_CONNECT_SESSION_SECONDS = 30 * 60
export const MIN_CONNECT_SESSION_SECONDS = 60
export const MAX_CONNECT_SESSION_SECONDS = 7 * 24 * 60 * 60

export interface ConnectSessionInput {
  app: string
  /** The connection's name; default a fresh unique `link-<hex>`. */
  name?: string
  /** Provider connect options fixed by the session (bookingtime's `organizationId`, …). */
  options?: Record<string, unknown>
  /** Where the end user goes after connecting (must match the app's allow-list). */
  returnUrl?: string
  /** Lifetime in seconds (default 30 minutes, 1 minute to 7 days). */
  expiresIn?: number
  /** Allows replacing an existing connection of the same name (default: refused). */
  replace?: boolean
}

export interface ConnectSession {
  /** SHA-256 of the link token, hex. */
  id: string
  app: string
  name: string
  options: Record<string, string>
  returnUrl?: string
  replace: boolean
  /** Who created it; connections made through it are recorded under this actor (`api-key:<id>`). */
  actor: string
  createdAt: number
  expiresAt: number
  usedAt?: number
}

export interface CreatedConnectSession {
  /** The secret part of the link: `<public url>/connect/<token>`. Shown once, never stored. */
  token: string
  session: ConnectSession
}

export function hashConnectToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** `/connect/<token>` for a token's shape: `ikc_` and 43 base64url characters. */
export const CONNECT_TOKEN = /^ikc_[A-Za-z0-9_-]{43}$/

/** A request the caller must fix (HTTP 400, CLI usage exit). */
function invalid(message: string): InnkeeperError {
  return new ConfigError('invalid_config', message)
}

function readOptions(input: unknown, allowed: string[]): Record<string, string> {
  if (input === undefined || input === null) return {}
  if (typeof input !== 'object' || Array.isArray(input)) throw invalid('`options` must be an object.')
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(input)) {
    if (!allowed.includes(key)) {
      throw invalid(
        `"${key.slice(0, 60)}" is not a connect option of this app's provider${allowed.length > 0 ? ` (it takes ${allowed.join(', ')})` : ' (it takes none)'}.`,
      )
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw invalid(`The connect option ${key} must be a string.`)
    }
    const text = String(value).trim()
    if (text.length > 200) throw invalid(`The connect option ${key} is too long.`)
    if (text !== '') out[key] = text
  }
  return out
}

function readSeconds(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_CONNECT_SESSION_SECONDS
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < MIN_CONNECT_SESSION_SECONDS ||
    value > MAX_CONNECT_SESSION_SECONDS
  ) {
    throw invalid(
      `\`expiresIn\` is a whole number of seconds from ${MIN_CONNECT_SESSION_SECONDS} to ${MAX_CONNECT_SESSION_SECONDS} (default ${DEFAULT_CONNECT_SESSION_SECONDS}).`,
    )
  }
  return value
}

/** What creating a session needs of the library (the Innkeeper facade is one). */
export interface ConnectSessionHost {
  readonly apps: Pick<Apps, 'get'>
  readonly providers: ProviderCatalogue
  readonly store: Store
  now(): number
}

/** Checks a request and stores a new session; the token is returned once and never stored. */
export async function createConnectSession(
  keeper: ConnectSessionHost,
  input: ConnectSessionInput,
  actor: string,
): Promise<CreatedConnectSession> {
  if (typeof input.app !== 'string' || input.app === '') throw invalid('Name the app: `{ "app": "…" }`.')
  const app = await keeper.apps.get(input.app)
  const provider = keeper.providers.get(app.provider)
  const options = readOptions(
    input.options,
    provider.connectOptions.map((option) => option.name),
  )
  if (input.replace !== undefined && typeof input.replace !== 'boolean')
    throw invalid('`replace` is true or false.')
  const replace = input.replace === true
  if (input.name !== undefined && typeof input.name !== 'string') throw invalid('`name` must be a string.')
  const name = input.name ? checkName(input.name) : linkConnectionName()
  if (!replace && (await keeper.store.getConnection(connectionId(app.name, name)))) {
    throw new InnkeeperError(
      'conflict',
      `The connection ${app.name}/${name} already exists. A connect link never replaces a connection unless it is created with "replace": true; choose another name or pass replace.`,
    )
  }
  let returnUrl: string | undefined
  if (input.returnUrl !== undefined) {
    if (typeof input.returnUrl !== 'string') throw invalid('`returnUrl` must be a URL string.')
    const allowList = returnUrlAllowList(app.settings)
    const allowed = allowedReturnUrl(input.returnUrl, allowList)
    if (!allowed) {
      throw invalid(
        allowList.length === 0
          ? `The app ${app.name} allows no return URL yet. Add its allow-list: \`innkeeper apps set ${app.name} --return-url-allow https://your-app.example/path/\`.`
          : `This return URL is not in the allow-list of ${app.name} (origin and path prefix must match one of: ${allowList.join(', ')}).`,
      )
    }
    returnUrl = allowed.href
  }
  const seconds = readSeconds(input.expiresIn)
  const now = keeper.now()
  const token = `ikc_${randomBytes(32).toString('base64url')}`
  const session: ConnectSession = {
    id: hashConnectToken(token),
    app: app.name,
    name,
    options,
    ...(returnUrl ? { returnUrl } : {}),
    replace,
    actor,
    createdAt: now,
    expiresAt: now + seconds * 1000,
  }
  const { id, ...value } = session
  await keeper.store.putDocument(CONNECT_SESSIONS_COLLECTION, id, value)
  return { token, session }
}

function fromDocument(id: string, value: Record<string, unknown>): ConnectSession {
  return {
    id,
    app: String(value.app),
    name: String(value.name),
    options: (value.options ?? {}) as Record<string, string>,
    ...(typeof value.returnUrl === 'string' ? { returnUrl: value.returnUrl } : {}),
    replace: value.replace === true,
    actor: String(value.actor),
    createdAt: Number(value.createdAt),
    expiresAt: Number(value.expiresAt),
    ...(typeof value.usedAt === 'number' ? { usedAt: value.usedAt } : {}),
  }
}

export type ConnectSessionLookup =
  | { status: 'open' | 'used' | 'expired'; session: ConnectSession }
  | { status: 'unknown' }

/** Reads the session a presented token names (nothing is changed). */
export async function findConnectSession(
  store: Store,
  token: string,
  now: number,
): Promise<ConnectSessionLookup> {
  if (!CONNECT_TOKEN.test(token)) return { status: 'unknown' }
  const id = hashConnectToken(token)
  const value = await store.getDocument(CONNECT_SESSIONS_COLLECTION, id)
  if (!value) return { status: 'unknown' }
  const session = fromDocument(id, value)
  if (session.usedAt !== undefined) return { status: 'used', session }
  if (session.expiresAt <= now) return { status: 'expired', session }
  return { status: 'open', session }
}

/** Marks the session used, atomically: of concurrent callers one gets it, the others null. */
export async function useConnectSession(
  store: Store,
  session: ConnectSession,
  now: number,
): Promise<ConnectSession | null> {
  const value = await store.useDocumentOnce(CONNECT_SESSIONS_COLLECTION, session.id, now)
  return value ? fromDocument(session.id, value) : null
}

/**
 * Gives a used session back (its holder only, right after `useConnectSession`): the connect it
 * started failed and changed nothing, so the person may try again with the same link.
 */
export async function releaseConnectSession(store: Store, session: ConnectSession): Promise<void> {
  const { id, usedAt: _usedAt, ...value } = session
  await store.putDocument(CONNECT_SESSIONS_COLLECTION, id, value)
}

/** Binds an authorization's `state` to the session that started it. */
export async function bindState(
  store: Store,
  state: string,
  session: ConnectSession,
  expiresAt: number,
): Promise<void> {
  await store.putDocument(CONNECT_SESSION_STATES_COLLECTION, hashConnectToken(state), {
    session: session.id,
    expiresAt,
  })
}

/** The session an authorization's `state` belongs to, if a connect link started it. */
export async function sessionOfState(
  store: Store,
  state: string | undefined,
): Promise<ConnectSession | null> {
  if (!state || state.length > 512) return null
  const binding = await store.getDocument(CONNECT_SESSION_STATES_COLLECTION, hashConnectToken(state))
  if (!binding || typeof binding.session !== 'string') return null
  const value = await store.getDocument(CONNECT_SESSIONS_COLLECTION, binding.session)
  return value ? fromDocument(binding.session, value) : null
}

export async function forgetState(store: Store, state: string): Promise<void> {
  await store.deleteDocument(CONNECT_SESSION_STATES_COLLECTION, hashConnectToken(state)).catch(() => false)
}

/** The end user's way back: the return URL with `connection=<id>`, or undefined for the success page. */
export function returnUrlWith(session: ConnectSession, connectionId: string): string | undefined {
  if (!session.returnUrl) return undefined
  const url = new URL(session.returnUrl)
  url.searchParams.set('connection', connectionId)
  return url.href
}

/** The link as the end user opens it: `<public url>/connect/<token>`. */
export function connectLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/connect/${token}`
}
