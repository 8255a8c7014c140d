// What the connection machinery shares inside one open Innkeeper: the store, the clock, this
// process's lease owner id, the event emitter, and resolved apps (record + provider + URLs).

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { InnkeeperError } from '../errors.js'
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http/limits.js'
import type { ConnectionInfo } from '../model/connection.js'
import type { InnkeeperEvents } from '../model/events.js'
import { type AppEndpoints, resolveAppEndpoints } from '../providers/endpoints.js'
import { defaultProviders, type ProviderCatalogue } from '../providers/registry.js'
import type { ProviderDefinition } from '../providers/schema.js'
import type { OutboxEntryInput } from '../stores/outbox.js'
import type { AppRecord, ConnectionRecord, Store } from '../stores/store.js'
import type { RecoveryJournal } from './recovery-journal.js'
import { DEFAULT_FAILURE_WINDOW_MS, type RetryPolicy } from './refresh-policy.js'
import { toConnectionInfo } from './view.js'

export interface ResolvedApp {
  record: AppRecord
  provider: ProviderDefinition
  endpoints: AppEndpoints
  /** Template context for provider strings. */
  templateApp: Record<string, unknown>
  /** Timeout and answer-size limit for every request made for this app. */
  limits: HttpLimits
}

/**
 * Where events that must never be lost are turned into outbox entries, written with the save
 * that causes them (the webhook OutboxWriter; absent without webhooks).
 */
export interface EventOutbox {
  entriesFor(events: ReadonlyArray<WrittenEvent>, connection: ConnectionInfo): Promise<OutboxEntryInput[]>
  committed(events: ReadonlyArray<WrittenEvent>, id: string): void
}

/**
 * Library events whose webhook entries are written with the save or delete that causes them.
 * `revoked` stands for a `disconnected` event whose grant was revoked on the platform (its
 * `connection.revoked` webhook event, besides `connection.deleted`).
 */
export type WrittenEvent =
  | 'connected'
  | 'refreshed'
  | 'recovered'
  | 'needs_reauth'
  | 'failed'
  | 'disconnected'
  | 'revoked'

export class KeeperContext {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  private readonly apps = new Map<string, ResolvedApp>()
  /** Set by Innkeeper when webhooks are on (always, today). */
  eventOutbox: EventOutbox | undefined
  /** Where a rotated token set the store refused is kept (`<home>/recovery`); none for the memory store. */
  journal: RecoveryJournal | undefined

  constructor(
    readonly store: Store,
    readonly now: () => number,
    readonly events: InnkeeperEvents,
    readonly retry: RetryPolicy,
    readonly leaseMs: number,
    /** A connection failing continuously for this long stops being retried automatically. */
    readonly failureWindowMs: number = DEFAULT_FAILURE_WINDOW_MS,
    /** Timeout and answer-size limit of every outbound request. */
    readonly limits: HttpLimits = DEFAULT_HTTP_LIMITS,
    /** The provider definitions this Innkeeper uses: built-ins plus the user's own. */
    readonly providers: ProviderCatalogue = defaultProviders,
  ) {}

  async resolveApp(name: string): Promise<ResolvedApp> {
    const cached = this.apps.get(name)
    if (cached) return cached
    const record = await this.store.getApp(name)
    if (!record) {
      throw new InnkeeperError(
        'unknown_app',
        `There is no app named "${name}". List apps with \`innkeeper apps list\` or add one with \`innkeeper apps add\`.`,
      )
    }
    const resolved = resolveApp(record, this.limits, this.providers)
    this.apps.set(name, resolved)
    return resolved
  }

  /** The app as resolved already (no store read), if it was. */
  cachedApp(name: string): ResolvedApp | undefined {
    return this.apps.get(name)
  }

  forgetApp(name: string): void {
    this.apps.delete(name)
  }

  /**
   * Saves a connection with the webhook entries of `events` in the same atomic write (see
   * `Store.saveConnection`); the caller emits the events right after, as before.
   */
  async saveWithEvents(
    record: ConnectionRecord,
    expectedVersion: number | undefined,
    events: ReadonlyArray<WrittenEvent>,
    provider: string,
  ): Promise<ConnectionRecord> {
    const outbox =
      this.eventOutbox && events.length > 0
        ? await this.eventOutbox.entriesFor(events, toConnectionInfo(record, provider, this.now()))
        : []
    const saved = await this.store.saveConnection(record, expectedVersion, outbox)
    crashPointAfterCommit()
    if (events.length > 0) this.eventOutbox?.committed(events, saved.id)
    return saved
  }

  /**
   * Deletes a connection with the webhook entries of its disconnect (`revoked` when the grant was
   * revoked, then `disconnected`) in the same atomic write (see `Store.deleteConnection`); the
   * caller emits `disconnected` right after, as before. Nothing is written if it was already gone.
   */
  async deleteWithEvents(record: ConnectionRecord, revoked: boolean, provider: string): Promise<boolean> {
    const events: WrittenEvent[] = revoked ? ['revoked', 'disconnected'] : ['disconnected']
    const outbox = this.eventOutbox
      ? await this.eventOutbox.entriesFor(
          events,
          toConnectionInfo({ ...record, state: 'revoked' }, provider, this.now()),
        )
      : []
    const deleted = await this.store.deleteConnection(record.id, outbox)
    if (deleted) {
      crashPointAfterCommit()
      this.eventOutbox?.committed(events, record.id)
    }
    return deleted
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms))
  }

  /** Who hears how each refresh's token request went (the refresher's adaptive limits). */
  readonly tokenRequestObservers = new Set<TokenRequestObserver>()

  observeTokenRequest(app: string, outcome: TokenRequestOutcome): void {
    for (const observer of this.tokenRequestObservers) observer(app, outcome)
  }
}

/**
 * How a refresh's token request went: answered (in `latencyMs`), or pushed back by the
 * platform (a 429 with its `Retry-After`, a 5xx, a timeout or a network failure).
 */
export type TokenRequestOutcome = { ok: true; latencyMs: number } | { ok: false; retryAfterMs?: number }

export type TokenRequestObserver = (app: string, outcome: TokenRequestOutcome) => void

export function resolveApp(
  record: AppRecord,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
  providers: ProviderCatalogue = defaultProviders,
): ResolvedApp {
  const provider = providers.get(record.provider)
  const endpoints = resolveAppEndpoints(
    provider,
    { ...record.settings, redirectUri: record.redirectUri },
    { withoutSecret: record.clientSecret.length === 0 },
  )
  const redirectUri = record.redirectUri ?? provider.authorization.defaultRedirectUri
  return {
    record,
    provider,
    endpoints,
    templateApp: { ...record.settings, redirectUri, apiUrl: endpoints.apiUrl, clientId: record.clientId },
    limits,
  }
}

/**
 * Test hook: with INNKEEPER_TEST_CRASH_AFTER_COMMIT=1 the process SIGKILLs itself right after a
 * connection write (or delete) that carries webhook events has committed (test/webhooks/crash.test.ts).
 */
export function crashPointAfterCommit(): void {
  if (process.env.INNKEEPER_TEST_CRASH_AFTER_COMMIT === '1') process.kill(process.pid, 'SIGKILL')
}
