// The audit trail of one open Innkeeper: records connects, refreshes, failures, disconnects and
// tokens handed out (all from the keeper's events) and key rotations, with who did it. Entries hold public
// facts only (ids, actions, error codes, key ids, counts), never a token or a secret. Writing an
// entry never fails the operation it describes: a store error is counted and the entry dropped.
import { randomBytes } from 'node:crypto'
import type { ConnectionInfo } from '../model/connection.js'
import type { InnkeeperEvents } from '../model/events.js'
import type { AuditEntry, ListAuditFilter, Store } from '../stores/store.js'
import { scopedActor } from './actor.js'
import { retentionCutoff } from './retention.js'

export type AuditDetail = Record<string, string | number | boolean>

export interface AuditRecordInput {
  action: string
  connection?: string
  outcome?: AuditEntry['outcome']
  detail?: AuditDetail
  /** Default: the actor of the surrounding `runAsActor`, else the trail's own. */
  actor?: string
}

/** Sortable by time: 12 hex digits of milliseconds, then 8 of randomness. */
export function newAuditId(at: number): string {
  return `${Math.max(0, Math.floor(at)).toString(16).padStart(12, '0')}-${randomBytes(4).toString('hex')}`
}

const EVENT_ACTIONS = {
  connected: 'connection.connected',
  refreshed: 'token.refreshed',
  needs_reauth: 'connection.needs_reauth',
  error: 'connection.error',
  recovered: 'connection.recovered',
  disconnected: 'connection.disconnected',
} as const

export class AuditTrail {
  /** Entries the store refused (they are dropped, never retried). */
  failures = 0
  private readonly pending = new Set<Promise<void>>()
  private batch: AuditEntry[] = []
  /** The write that will carry the entries in `batch`; it starts when the one before it ends. */
  private nextWrite: Promise<void> | undefined
  private writing: Promise<void> = Promise.resolve()
  private retentionTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    /** The actor when nobody named one: `library`, `cli:<user>`, … */
    readonly actor: string,
    private readonly enabled = true,
  ) {}

  /** Records one entry; resolves once it is written (or dropped). Never rejects. */
  record(input: AuditRecordInput): Promise<void> {
    if (!this.enabled) return Promise.resolve()
    const at = this.now()
    const entry: AuditEntry = {
      id: newAuditId(at),
      at,
      actor: input.actor ?? scopedActor() ?? this.actor,
      action: input.action,
      outcome: input.outcome ?? 'ok',
    }
    if (input.connection !== undefined) entry.connection = input.connection
    if (input.detail !== undefined) entry.detail = publicDetail(input.detail)
    return this.enqueue(entry)
  }

  /**
   * Entries recorded while a write is in flight go out together in the next one: under load
   * (the token API) one store write carries many entries instead of one write each.
   */
  private enqueue(entry: AuditEntry): Promise<void> {
    this.batch.push(entry)
    // setImmediate: every request handled in this turn of the event loop joins the batch.
    this.nextWrite ??= this.writing.then(afterThisTurn).then(() => {
      const entries = this.batch
      this.batch = []
      this.nextWrite = undefined
      return this.store.appendAudit(entries).catch(() => {
        this.failures += entries.length
      })
    })
    const write = this.nextWrite
    this.writing = write
    this.pending.add(write)
    void write.finally(() => this.pending.delete(write))
    return write
  }

  /** Records the keeper's connection events (the actor is whoever caused them). */
  follow(events: InnkeeperEvents): void {
    for (const [event, action] of Object.entries(EVENT_ACTIONS) as Array<
      [keyof typeof EVENT_ACTIONS, string]
    >) {
      events.on(event, (info: ConnectionInfo) => {
        const failed = event === 'error' || event === 'needs_reauth'
        const code = failed ? info.lastError?.code : undefined
        void this.record({
          action,
          connection: info.id,
          outcome: failed ? 'failed' : 'ok',
          ...(code ? { detail: { code } } : {}),
        })
      })
    }
    events.on('token_issued', ({ connection, outcome, code, actor }) => {
      void this.record({
        action: 'token.issued',
        connection,
        outcome,
        ...(actor !== undefined ? { actor } : {}),
        ...(code ? { detail: { code } } : {}),
      })
    })
  }

  list(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    return this.store.listAudit(filter)
  }

  /** Removes entries older than `days` (retention); answers how many. */
  prune(days: number): Promise<number> {
    return this.store.pruneAudit(retentionCutoff(this.now(), days))
  }

  /** Prunes now and then every `intervalMs` (default hourly) until `stopRetention` or close. */
  startRetention(days: number, intervalMs = 3_600_000): void {
    if (this.retentionTimer) return
    const run = () => void this.prune(days).catch(() => undefined)
    run()
    this.retentionTimer = setInterval(run, intervalMs)
    this.retentionTimer.unref()
  }

  stopRetention(): void {
    clearInterval(this.retentionTimer)
    this.retentionTimer = undefined
  }

  /** Waits for entries still being written (before the store closes). */
  async flush(): Promise<void> {
    this.stopRetention()
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }
}

/** Keeps short scalar values only, so nothing long (a token pasted by mistake) gets in. */
function publicDetail(detail: AuditDetail): AuditDetail {
  const kept: AuditDetail = {}
  for (const [key, value] of Object.entries(detail)) {
    if (typeof value === 'string' && value.length > 120) continue
    kept[key] = value
  }
  return kept
}

function afterThisTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
