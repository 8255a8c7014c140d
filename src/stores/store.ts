// The Store interface every backend implements (memory, SQLite, PostgreSQL, Redis), and the
// records it holds. Stores encrypt every secret field with the keyring they are given
// (see `src/stores/codec.ts`); callers hand them plaintext records and get plaintext back.

import type { ConnectionError, StoredConnectionState } from '../model/connection.js'
import type { TokenSet } from '../model/token-set.js'
import type { AppSettings } from '../providers/endpoints.js'
import type { ChangeListener, ChangesSubscription } from './changes.js'
import type { OutboxEntryInput, OutboxStore } from './outbox.js'

/** A registered OAuth application on one platform. */
export interface AppRecord {
  name: string
  /** Canonical provider name (`bookingsync`, never the alias `smily`). */
  provider: string
  clientId: string
  /** Secret; may be '' where the provider allows it (bookingtime's Module API). Encrypted at rest. */
  clientSecret: string
  redirectUri?: string
  scopes?: string[]
  settings: AppSettings
  createdAt: number
  updatedAt: number
}

/** One authorized account of an app: `<app>/<name>`. */
export interface ConnectionRecord {
  id: string
  app: string
  name: string
  state: StoredConnectionState
  /** Encrypted at rest. */
  tokens: TokenSet | null
  /** The refresh token before the last rotation, kept until the new one has worked. Encrypted at rest. */
  previousRefreshToken?: string
  scopes: string[]
  /** Public facts from connect and post-connect steps (subscription id, organization id, channel). */
  metadata: Record<string, unknown>
  lastError?: ConnectionError
  /** Consecutive failed refreshes, for backoff. */
  failures: number
  /** When the next refresh should happen (access expiry minus margin, or a backoff time). */
  refreshDueAt?: number
  createdAt: number
  updatedAt: number
  lastRefreshAt?: number
  /**
   * When a token of it was last handed out, noted coarsely (see `useNoting` in
   * `src/connections/refresh-policy.ts`); kept inside the sealed secrets, so no store has a column for it.
   */
  lastUsedAt?: number
  /** Increases by one on every save; `saveConnection` compares it (optimistic concurrency). */
  version: number
  /**
   * Set only in listings (`listConnections`) when the secrets could not be opened: the key id
   * they are sealed with is not loaded, or the ciphertext is damaged. `tokens` is null then.
   */
  unreadable?: { code: 'key_unavailable' | 'decryption_failed'; keyId: string }
}

/** An authorization-code flow started and not yet completed (state and PKCE verifier). */
export interface PendingAuthorization {
  state: string
  app: string
  name: string
  redirectUri: string
  scopes: string[]
  /** PKCE verifier; encrypted at rest. */
  codeVerifier?: string
  options: Record<string, string>
  createdAt: number
  expiresAt: number
}

/** A held lease on a key: only its holder may act; `fencingToken` grows with every grant. */
export interface Lease {
  key: string
  owner: string
  fencingToken: number
  expiresAt: number
}

/** A connection picked up by `claimDueConnections`, with the refresh lease taken on it. */
export interface ClaimedConnection {
  connection: ConnectionRecord
  lease: Lease
}

/** What `leaseConnection` answers: the record as of the lease, and the lease if it was taken. */
export interface LeasedConnection {
  /** Null when someone else holds an unexpired refresh lease, or the connection does not exist. */
  lease: Lease | null
  record: ConnectionRecord | null
}

/** The lease key that guards refreshing one connection, shared by workers and on-demand callers. */
export function refreshLeaseKey(connectionId: string): string {
  return `refresh:${connectionId}`
}

export interface ListConnectionsFilter {
  app?: string
}

/** One line of the audit trail: who did what to which connection, and how it ended. Never a secret. */
export interface AuditEntry {
  /** Unique and sortable by time (see `newAuditId` in `src/audit/trail.ts`). */
  id: string
  at: number
  /** `api-key:<id>`, `cli:<os user>`, `worker:<owner>`, `library`, … */
  actor: string
  /** `token.issued`, `token.refreshed`, `connection.connected`, `keys.rotated`, … */
  action: string
  connection?: string
  outcome: 'ok' | 'failed'
  /** Public facts only: an error code, key ids, counts. */
  detail?: Record<string, string | number | boolean>
}

export interface ListAuditFilter {
  connection?: string
  /** Only entries at or after this time (ms). */
  since?: number
  /** Most entries returned (default 100). */
  limit?: number
}

/** How many audit entries of one action and outcome fell in one time bucket (`countAudit`). */
export interface AuditCount {
  /** Start of the bucket (ms): `floor(at / bucketMs) * bucketMs`. */
  bucket: number
  action: string
  outcome: AuditEntry['outcome']
  count: number
}

/** One batch of `reencryptSecrets`: where to continue (null: every record was visited). */
export interface ReencryptResult {
  cursor: string | null
  reencrypted: number
  /** Records changed by someone else while being re-sealed; a later pass picks them up. */
  skipped: number
}

export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres' | 'redis'
  /**
   * Whose clock judges lease expiry: `server` (PostgreSQL, Redis: the database server's, so the
   * clocks of workers on many machines need not agree, and the lease methods' `now` is not used)
   * or `caller` (memory, SQLite: the `now` given; one machine, one clock).
   */
  readonly leaseClock: 'server' | 'caller'

  /** The durable webhook outbox kept in the same store (see `outbox.ts`). */
  readonly outbox: OutboxStore

  putApp(app: AppRecord): Promise<void>
  getApp(name: string): Promise<AppRecord | null>
  listApps(): Promise<AppRecord[]>
  /** Deletes the app and its connections and pending authorizations; false when it did not exist. */
  deleteApp(name: string): Promise<boolean>

  getConnection(id: string): Promise<ConnectionRecord | null>
  listConnections(filter?: ListConnectionsFilter): Promise<ConnectionRecord[]>
  /**
   * Writes a connection. With `expectedVersion`, the write happens only if the stored version
   * still equals it (0: the connection must not exist yet), and fails with a StoreError
   * `conflict` otherwise. Without it, the write replaces whatever is stored. Returns the record
   * as stored, with its version increased by one. `outbox` entries (the webhook events this
   * change causes) are enqueued in the same atomic write, and only if the write happens: no crash
   * can commit the change without its events (memory, SQLite, PostgreSQL, Redis). With `release`,
   * that lease (the refresh lease of this connection) is released in the same atomic write, and
   * only if the write happens: a refused save (conflict) leaves it held.
   */
  saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox?: OutboxEntryInput[],
    release?: Lease,
  ): Promise<ConnectionRecord>
  /**
   * Deletes a connection; true if it existed. `outbox` entries (the webhook events of this
   * delete) are enqueued in the same atomic write, and only if something was deleted.
   */
  deleteConnection(id: string, outbox?: OutboxEntryInput[]): Promise<boolean>

  putPendingAuthorization(pending: PendingAuthorization): Promise<void>
  /** Atomically removes and returns the pending authorization for `state` (single use); null if absent or expired. */
  takePendingAuthorization(state: string, now: number): Promise<PendingAuthorization | null>
  /** The newest unexpired pending authorization of an app (for `innkeeper connect --code`), not removed. */
  latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null>

  /** Takes the lease on `key` if nobody holds an unexpired one; null otherwise. */
  acquireLease(key: string, owner: string, ttlMs: number, now: number): Promise<Lease | null>
  /**
   * A refresh in one step: takes the refresh lease of connection `id` (key `refreshLeaseKey(id)`,
   * as `acquireLease`) if the connection exists and nobody holds an unexpired lease on it, and
   * reads the connection in the same atomic step, so the record is at least as new as every
   * write committed before the lease was taken. Without the lease the record is still answered.
   */
  leaseConnection(id: string, owner: string, ttlMs: number, now: number): Promise<LeasedConnection>
  /** Extends a held lease; false if it was lost (expired and taken, or released). */
  renewLease(lease: Lease, ttlMs: number, now: number): Promise<boolean>
  /** Releases a lease only if the fencing token still matches; false otherwise. */
  releaseLease(lease: Lease): Promise<boolean>
  /** The current unexpired holder of a key, if any. */
  getLease(key: string, now: number): Promise<Lease | null>

  /**
   * For the background refresher: atomically picks up to `limit` connections whose
   * `refreshDueAt <= now` and whose state is `active` or `error`, that nobody holds an
   * unexpired lease on (key `refresh:<id>`, see `refreshLeaseKey`), earliest due first, and
   * takes that lease for `owner` for `leaseMs` on each one, so other workers and on-demand
   * callers wait. Concurrent claimers never receive the same connection. A record whose secrets
   * this process cannot open (a key it lacks) is claimed like the others but comes back with
   * `unreadable` set and `tokens` null, so it cannot make the whole claim fail.
   */
  claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]>

  /**
   * Small documents by collection and id, for features beyond tokens: hashed API keys of
   * `innkeeper serve` (collection `api_keys`), webhook receivers, and the like. Values are
   * JSON objects stored as given (NOT encrypted: put only hashes or public data here).
   * `listDocuments` returns them ordered by id.
   */
  putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void>
  getDocument(collection: string, id: string): Promise<Record<string, unknown> | null>
  listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>>
  deleteDocument(collection: string, id: string): Promise<boolean>
  /**
   * Single use of a document (connect links): atomically sets `usedAt: now` on the document when
   * it has no `usedAt` yet and its numeric `expiresAt` is after `now`, and answers it as now
   * stored; null when it is absent, already used or expired. Of concurrent callers (in any
   * process sharing the store) exactly one gets the document.
   */
  useDocumentOnce(collection: string, id: string, now: number): Promise<Record<string, unknown> | null>

  /**
   * Key rotation: how many stored secrets (apps' client secrets, connections' secrets, pending
   * authorizations' verifiers) each key id sealed. The memory store seals nothing: `{}`.
   */
  countSecretsByKeyId(): Promise<Record<string, number>>
  /**
   * Key rotation: re-seals with the keyring's current key up to `limit` records (after `cursor`,
   * null to start) whose secret another key sealed. Each write is a compare-and-swap on the
   * stored ciphertext (and a connection's version, which it does not change), so a concurrent
   * refresh is never overwritten: such records are counted in `skipped` and left for a later pass.
   */
  reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult>

  /** Appends audit entries (public facts only), all in one write. */
  appendAudit(entries: AuditEntry[]): Promise<void>
  /** Audit entries, newest first. */
  listAudit(filter?: ListAuditFilter): Promise<AuditEntry[]>
  /**
   * Counts entries at or after `since`, grouped by time bucket (`bucketMs` wide, aligned to
   * multiples of it), action and outcome; in any order, no zero counts. For the dashboard's
   * fleet strip: the store counts, nothing is listed.
   */
  countAudit(since: number, bucketMs: number): Promise<AuditCount[]>
  /** Removes entries older than `before` (ms); answers how many. */
  pruneAudit(before: number): Promise<number>

  /**
   * The changes feed (see `changes.ts`): `listener` hears of every connection saved or deleted
   * by any process sharing the store, within about a second, from the moment this resolves.
   */
  watchChanges(listener: ChangeListener): Promise<ChangesSubscription>

  /**
   * Whether what the store acknowledges survives a restart of its server: a sentence to warn
   * with when it may not (Redis with neither AOF nor RDB snapshots, or only snapshots, or a
   * server that would not say), undefined when it does (or nothing is meant to outlive the process).
   */
  durabilityWarning(): Promise<string | undefined>

  /** Checks the store answers (for `/readyz` and `innkeeper doctor`). */
  ping(): Promise<void>
  close(): Promise<void>
}
