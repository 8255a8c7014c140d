// The audit trail of one open Innkeeper: records connects, refreshes, failures, disconnects and
// tokens handed out (all from the keeper's events) and key rotations, with who did it. Entries hold public
// facts only (ids, actions, error codes, key ids, counts), never a token or a secret. Writing an
// entry never fails the operation it describes: a store error is counted and the entry dropped.
// Entries are written in batches, off the path of whoever caused them (a refresh, a token request):
// a batch goes out BATCH_DELAY_MS after its first entry or at BATCH_MAX entries, and at once on
// `flush` (close) or before the trail is read through `list`.
import { randomUint32FromPool } from '../crypto/random-pool.js'
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
  return `${Math.max(0, Math.floor(at)).toString(16).padStart(12, '0')}-${randomUint32FromPool().toString(16).padStart(8, '0')}`
}

const EVENT_ACTIONS = {
  connected: 'connection.connected',
  refreshed: 'token.refreshed',
  needs_reauth: 'connection.needs_reauth',
  error: 'connection.error',
  recovered: 'connection.recovered',
  disconnected: 'connection.disconnected',
} as const

/** A batch is written this long after its first entry… */
const BATCH_DELAY_MS = 50
/** …or as soon as it holds this many entries. */
const BATCH_MAX = 500

export class AuditTrail {
  /** Entries the store refused (they are dropped, never retried). */
  failures = 0
  /** Entries waiting for their batch to be written, and what resolves once it is. */
  private batch: AuditEntry[] = []
  private batchWritten: (() => void) | undefined
  private batchDone: Promise<void> | undefined
  private batchTimer: NodeJS.Timeout | undefined
  /** The last write started: writes go out one after another, in order. */
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
   * Adds the entry to the open batch: one store write carries every entry of the last
   * BATCH_DELAY_MS (or BATCH_MAX of them), and never runs inside the turn that recorded it, so
   * the caller's own continuation (a refresh's answer, a token response) is not held up by it,
   * not even on SQLite, whose writes block the event loop.
   */
  private enqueue(entry: AuditEntry): Promise<void> {
    this.batch.push(entry)
    this.batchDone ??= new Promise<void>((resolve) => {
      this.batchWritten = resolve
    })
    const done = this.batchDone
    if (this.batch.length === BATCH_MAX) setImmediate(() => this.writeBatch())
    else this.batchTimer ??= setTimeout(() => this.writeBatch(), BATCH_DELAY_MS)
    return done
  }

  /** Starts the write of the open batch (after the writes before it). */
  private writeBatch(): void {
    clearTimeout(this.batchTimer)
    this.batchTimer = undefined
    const entries = this.batch
    const written = this.batchWritten
    if (entries.length === 0 || !written) return
    this.batch = []
    this.batchWritten = undefined
    this.batchDone = undefined
    this.writing = this.writing
      .then(() => this.store.appendAudit(entries))
      .catch(() => {
        this.failures += entries.length
      })
      .then(written)
  }

  /** Writes the open batch now and waits for every write so far. */
  private async drain(): Promise<void> {
    while (this.batch.length > 0 || this.batchDone) {
      this.writeBatch()
      await this.writing
    }
    await this.writing
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

  /** The trail, newest first, with every entry recorded before the call in it. */
  async list(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    await this.drain()
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

  /** Writes the entries still waiting and stops retention (before the store closes). */
  async flush(): Promise<void> {
    this.stopRetention()
    await this.drain()
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
