// The in-memory Store: for tests, demos and one-off scripts. Nothing is written anywhere, so
// nothing is encrypted; every record is deep-copied in and out so callers cannot change what is
// stored by mutating an object they passed or received. Every method runs to completion without
// awaiting, so each one is atomic within the process (which is the only process that can see it).

import { StoreError } from '../../errors.js'
import {
  ANY_CONNECTION,
  type ChangeListener,
  ChangesHub,
  type ChangesSubscription,
  documentChange,
  inProcessSource,
} from '../changes.js'
import { unknownAppError, versionConflictError } from '../codec.js'
import { isClaimable } from '../kit/claimable.js'
import type { OutboxEntryInput } from '../outbox.js'
import {
  type AppRecord,
  type AuditCount,
  type AuditEntry,
  type ClaimedConnection,
  type ConnectionRecord,
  type Lease,
  type LeasedConnection,
  type ListAuditFilter,
  type ListConnectionsFilter,
  type PendingAuthorization,
  type ReencryptResult,
  refreshLeaseKey,
  type Store,
} from '../store.js'
import { MemoryOutbox } from './outbox.js'

interface LeaseSlot {
  /** Highest fencing token ever granted on the key; kept after release so tokens only grow. */
  lastFencingToken: number
  held: Lease | null
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  readonly leaseClock = 'caller' as const
  private readonly apps = new Map<string, AppRecord>()
  private readonly connections = new Map<string, ConnectionRecord>()
  private readonly pending = new Map<string, PendingAuthorization>()
  private readonly leases = new Map<string, LeaseSlot>()
  private readonly documents = new Map<string, Map<string, Record<string, unknown>>>()
  private audit: AuditEntry[] = []
  private closed = false
  private readonly changes = new ChangesHub(inProcessSource())

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    this.assertOpen()
    return this.changes.subscribe(listener)
  }

  async putApp(app: AppRecord): Promise<void> {
    this.assertOpen()
    this.apps.set(app.name, structuredClone(app))
  }

  async getApp(name: string): Promise<AppRecord | null> {
    this.assertOpen()
    return copyOrNull(this.apps.get(name))
  }

  async listApps(): Promise<AppRecord[]> {
    this.assertOpen()
    return [...this.apps.values()].sort((a, b) => compare(a.name, b.name)).map((app) => structuredClone(app))
  }

  async deleteApp(name: string): Promise<boolean> {
    this.assertOpen()
    if (!this.apps.delete(name)) return false
    for (const [id, connection] of this.connections) if (connection.app === name) this.connections.delete(id)
    for (const [state, pending] of this.pending) if (pending.app === name) this.pending.delete(state)
    this.changes.emit({ connection: ANY_CONNECTION })
    return true
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    this.assertOpen()
    return copyOrNull(this.connections.get(id))
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    this.assertOpen()
    return [...this.connections.values()]
      .filter((connection) => filter.app === undefined || connection.app === filter.app)
      .sort((a, b) => compare(a.id, b.id))
      .map((connection) => structuredClone(connection))
  }

  async saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
    release?: Lease,
  ): Promise<ConnectionRecord> {
    this.assertOpen()
    if (!this.apps.has(record.app)) throw unknownAppError(record.app)
    const storedVersion = this.connections.get(record.id)?.version ?? 0
    if (expectedVersion !== undefined && storedVersion !== expectedVersion) {
      throw versionConflictError(record.id, expectedVersion, storedVersion)
    }
    const stored = structuredClone({ ...record, version: storedVersion + 1 })
    this.connections.set(record.id, stored)
    // Synchronous up to its end: nothing runs between the save and the enqueue.
    if (outbox.length > 0) void this.outbox.enqueue(outbox)
    const slot = release && this.heldLease(release) ? this.leases.get(release.key) : undefined
    if (slot) slot.held = null
    this.changes.emit({ connection: record.id })
    return structuredClone(stored)
  }

  async deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    this.assertOpen()
    const deleted = this.connections.delete(id)
    // Synchronous up to its end: nothing runs between the delete and the enqueue.
    if (deleted && outbox.length > 0) void this.outbox.enqueue(outbox)
    if (deleted) this.changes.emit({ connection: id })
    return deleted
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    this.assertOpen()
    if (!this.apps.has(pending.app)) throw unknownAppError(pending.app)
    this.pending.set(pending.state, structuredClone(pending))
  }

  async takePendingAuthorization(state: string, now: number): Promise<PendingAuthorization | null> {
    this.assertOpen()
    const pending = this.pending.get(state)
    if (!pending) return null
    this.pending.delete(state)
    return pending.expiresAt > now ? pending : null
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    this.assertOpen()
    let latest: PendingAuthorization | undefined
    for (const pending of this.pending.values()) {
      if (pending.app !== app || pending.expiresAt <= now) continue
      if (!latest || pending.createdAt > latest.createdAt) latest = pending
    }
    return copyOrNull(latest)
  }

  async acquireLease(key: string, owner: string, ttlMs: number, now: number): Promise<Lease | null> {
    this.assertOpen()
    return this.acquireLeaseNow(key, owner, ttlMs, now)
  }

  async leaseConnection(id: string, owner: string, ttlMs: number, now: number): Promise<LeasedConnection> {
    this.assertOpen()
    const record = this.connections.get(id)
    if (!record) return { lease: null, record: null }
    return {
      lease: this.acquireLeaseNow(refreshLeaseKey(id), owner, ttlMs, now),
      record: structuredClone(record),
    }
  }

  async renewLease(lease: Lease, ttlMs: number, now: number): Promise<boolean> {
    this.assertOpen()
    const held = this.heldLease(lease)
    if (!held) return false
    held.expiresAt = now + ttlMs
    return true
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    this.assertOpen()
    const slot = this.leases.get(lease.key)
    if (!slot || !this.heldLease(lease)) return false
    slot.held = null
    return true
  }

  async getLease(key: string, now: number): Promise<Lease | null> {
    this.assertOpen()
    const held = this.leases.get(key)?.held
    return held && held.expiresAt > now ? { ...held } : null
  }

  async claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]> {
    this.assertOpen()
    const due = [...this.connections.values()]
      .filter(
        (connection) =>
          connection.refreshDueAt !== undefined &&
          connection.refreshDueAt <= now &&
          isClaimable(connection.state),
      )
      .sort((a, b) => (a.refreshDueAt ?? 0) - (b.refreshDueAt ?? 0) || compare(a.id, b.id))
    const claimed: ClaimedConnection[] = []
    for (const connection of due) {
      if (claimed.length >= limit) break
      const lease = this.acquireLeaseNow(refreshLeaseKey(connection.id), owner, leaseMs, now)
      if (lease) claimed.push({ connection: structuredClone(connection), lease })
    }
    return claimed
  }

  async putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    this.assertOpen()
    let documents = this.documents.get(collection)
    if (!documents) {
      documents = new Map()
      this.documents.set(collection, documents)
    }
    documents.set(id, structuredClone(value))
    this.changes.emit(documentChange(collection, id))
  }

  async getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    this.assertOpen()
    return copyOrNull(this.documents.get(collection)?.get(id))
  }

  async listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    this.assertOpen()
    return [...(this.documents.get(collection) ?? new Map<string, Record<string, unknown>>())]
      .sort(([a], [b]) => compare(a, b))
      .map(([id, value]) => ({ id, value: structuredClone(value) }))
  }

  async deleteDocument(collection: string, id: string): Promise<boolean> {
    this.assertOpen()
    const deleted = this.documents.get(collection)?.delete(id) ?? false
    if (deleted) this.changes.emit(documentChange(collection, id))
    return deleted
  }

  async useDocumentOnce(
    collection: string,
    id: string,
    now: number,
  ): Promise<Record<string, unknown> | null> {
    this.assertOpen()
    const value = this.documents.get(collection)?.get(id)
    if (
      !value ||
      value.usedAt !== undefined ||
      !(typeof value.expiresAt === 'number' && value.expiresAt > now)
    )
      return null
    value.usedAt = now
    this.changes.emit(documentChange(collection, id))
    return structuredClone(value)
  }

  // The webhook outbox lives in outbox.ts beside this file.
  readonly outbox = new MemoryOutbox(() => this.assertOpen())

  /** Nothing is sealed in memory, so no key protects anything here. */
  async countSecretsByKeyId(): Promise<Record<string, number>> {
    this.assertOpen()
    return {}
  }

  async reencryptSecrets(): Promise<ReencryptResult> {
    this.assertOpen()
    return { cursor: null, reencrypted: 0, skipped: 0 }
  }

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    this.assertOpen()
    for (const entry of entries) this.audit.push(structuredClone(entry))
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    this.assertOpen()
    return this.audit
      .filter(
        (entry) =>
          (filter.connection === undefined || entry.connection === filter.connection) &&
          (filter.since === undefined || entry.at >= filter.since),
      )
      .sort((a, b) => b.at - a.at || compare(b.id, a.id))
      .slice(0, filter.limit ?? 100)
      .map((entry) => structuredClone(entry))
  }

  async countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    this.assertOpen()
    const counts = new Map<string, AuditCount>()
    for (const entry of this.audit) {
      if (entry.at < since) continue
      const bucket = Math.floor(entry.at / bucketMs) * bucketMs
      const key = JSON.stringify([bucket, entry.action, entry.outcome])
      const found = counts.get(key)
      if (found) found.count += 1
      else counts.set(key, { bucket, action: entry.action, outcome: entry.outcome, count: 1 })
    }
    return [...counts.values()]
  }

  async pruneAudit(before: number): Promise<number> {
    this.assertOpen()
    const kept = this.audit.filter((entry) => entry.at >= before)
    const removed = this.audit.length - kept.length
    this.audit = kept
    return removed
  }

  /** Nothing in memory outlives the process; that is what `memory:` is for. */
  async durabilityWarning(): Promise<string | undefined> {
    return undefined
  }

  async ping(): Promise<void> {
    this.assertOpen()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.changes.shutdown()
  }

  private acquireLeaseNow(key: string, owner: string, ttlMs: number, now: number): Lease | null {
    const slot = this.leases.get(key) ?? { lastFencingToken: 0, held: null }
    if (slot.held && slot.held.expiresAt > now) return null
    slot.lastFencingToken += 1
    slot.held = { key, owner, fencingToken: slot.lastFencingToken, expiresAt: now + ttlMs }
    this.leases.set(key, slot)
    return { ...slot.held }
  }

  /** The stored lease if `lease` is still the one held (same owner and fencing token). */
  private heldLease(lease: Lease): Lease | null {
    const held = this.leases.get(lease.key)?.held
    if (!held || held.fencingToken !== lease.fencingToken || held.owner !== lease.owner) return null
    return held
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new StoreError('store_unavailable', 'This memory store was closed; open a new one.')
    }
  }
}

export function openMemoryStore(): MemoryStore {
  return new MemoryStore()
}

function copyOrNull<T>(value: T | undefined): T | null {
  return value === undefined ? null : structuredClone(value)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
