// The Redis store: many worker processes share one Redis primary as the store and the
// coordination point. Apps and connections are hashes of public fields plus sealed secrets (the
// shared codec encrypts them, rows.ts lays them out), connection saves are compare-and-swap Lua
// scripts on a version field (scripts.ts), a sorted set `due` scored by refreshDueAt feeds atomic
// claims, and leases carry fencing tokens from INCR (leases.ts). Beside this file: the URL
// (url.ts), the server handle (database.ts), key rotation (reseal.ts), the audit trail
// (audit.ts), the webhook outbox (outbox.ts), the changes feed (changes.ts) and the durability
// check (durability.ts).

import { Redis } from 'ioredis'
import type { Keyring } from '../../crypto/keyring.js'
import {
  type ChangeListener,
  ChangesHub,
  type ChangesSubscription,
  documentChangePayload,
} from '../changes.js'
import {
  encodeApp,
  encodeConnection,
  encodePendingAuthorization,
  unknownAppError,
  versionConflictError,
} from '../codec.js'
import { isClaimable } from '../kit/claimable.js'
import type { OutboxEntryInput } from '../outbox.js'
import type {
  AppRecord,
  AuditCount,
  AuditEntry,
  ClaimedConnection,
  ConnectionRecord,
  Lease,
  LeasedConnection,
  ListAuditFilter,
  ListConnectionsFilter,
  PendingAuthorization,
  ReencryptResult,
  Store,
} from '../store.js'
import { RedisAudit } from './audit.js'
import { redisChangesSource } from './changes.js'
import { RedisDatabase } from './database.js'
import { durabilityWarning } from './durability.js'
import { redisFailure } from './errors.js'
import * as leases from './leases.js'
import { outboxArgument, RedisOutbox } from './outbox.js'
import { RedisReseal } from './reseal.js'
import {
  appFromHash,
  checkTransaction,
  compare,
  connectionFromHash,
  hashFields,
  isEmpty,
  pendingFromJson,
} from './rows.js'
import {
  DELETE_APP,
  DELETE_CONNECTION,
  PUT_PENDING,
  SAVE_CONNECTION,
  TAKE_PENDING,
  USE_DOCUMENT_ONCE,
} from './scripts.js'
import { parseRedisUrl, type RedisUrlOptions } from './url.js'

export interface RedisStoreOptions extends RedisUrlOptions {
  keyring: Keyring
}

/** Pending authorizations are kept an hour past their expiry, then dropped by Redis. */
const PENDING_GC_MARGIN_MS = 60 * 60_000

/** Opens the Redis store at `url`, checking the server answers. */
export async function openRedisStore(url: string, options: RedisStoreOptions): Promise<Store> {
  const target = parseRedisUrl(url, options)
  const redis = new Redis(target.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 10_000,
    // Open fails fast when the server is down; once open, reconnect with a capped backoff.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  })
  // Errors surface on the command that failed; the event would otherwise print to stderr.
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    redis.disconnect()
    throw redisFailure(error, `open the Redis store at ${target.display}`)
  }
  return new RedisStore(new RedisDatabase(redis, target), options.keyring)
}

class RedisStore implements Store {
  readonly kind = 'redis' as const
  readonly leaseClock = 'server' as const
  readonly outbox: RedisOutbox
  private readonly changes: ChangesHub
  private readonly reseal: RedisReseal
  private readonly audit: RedisAudit

  constructor(
    private readonly db: RedisDatabase,
    private readonly keyring: Keyring,
  ) {
    this.changes = new ChangesHub(redisChangesSource(db.client, db.keys.changes))
    this.outbox = new RedisOutbox(db)
    this.reseal = new RedisReseal(db, keyring)
    this.audit = new RedisAudit(db)
  }

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    return this.db.run('listen for changes', () => this.changes.subscribe(listener))
  }

  async putApp(app: AppRecord): Promise<void> {
    const fields = hashFields(encodeApp(this.keyring, app))
    await this.db.run('save an app', async () => {
      await this.db.client
        .multi()
        .del(this.db.keys.app(app.name))
        .hset(this.db.keys.app(app.name), ...fields)
        .sadd(this.db.keys.apps, app.name)
        .exec()
        .then(checkTransaction)
      await this.db.waitForReplicas('save an app')
    })
  }

  async getApp(name: string): Promise<AppRecord | null> {
    const hash = await this.db.run('read an app', () => this.db.client.hgetall(this.db.keys.app(name)))
    return isEmpty(hash) ? null : appFromHash(this.keyring, hash)
  }

  async listApps(): Promise<AppRecord[]> {
    const hashes = await this.db.run('list apps', async () => {
      const names = await this.db.client.smembers(this.db.keys.apps)
      return this.db.hgetallMany(names.map((name) => this.db.keys.app(name)))
    })
    return hashes
      .filter((hash) => !isEmpty(hash))
      .map((hash) => appFromHash(this.keyring, hash))
      .sort((a, b) => compare(a.name, b.name))
  }

  async deleteApp(name: string): Promise<boolean> {
    const deleted = await this.db.run('delete an app', () =>
      this.db.eval(
        DELETE_APP,
        [
          this.db.keys.apps,
          this.db.keys.app(name),
          this.db.keys.appConnections(name),
          this.db.keys.appPending(name),
          this.db.keys.connections,
          this.db.keys.due,
        ],
        [name, this.db.prefix],
      ),
    )
    return deleted === 1
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    const hash = await this.db.run('read a connection', () =>
      this.db.client.hgetall(this.db.keys.connection(id)),
    )
    return isEmpty(hash) ? null : connectionFromHash(this.keyring, hash)
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    const hashes = await this.db.run('list connections', async () => {
      const ids = await this.db.client.smembers(
        filter.app === undefined ? this.db.keys.connections : this.db.keys.appConnections(filter.app),
      )
      return this.db.hgetallMany(ids.map((id) => this.db.keys.connection(id)))
    })
    return hashes
      .filter((hash) => !isEmpty(hash))
      .map((hash) => connectionFromHash(this.keyring, hash, { tolerant: true }))
      .sort((a, b) => compare(a.id, b.id))
  }

  async saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
    release?: Lease,
  ): Promise<ConnectionRecord> {
    const events = outboxArgument(outbox)
    const { version: _ignored, ...encoded } = encodeConnection(this.keyring, record)
    const claimable = record.refreshDueAt !== undefined && isClaimable(record.state)
    const answer = (await this.db.run('save a connection', async () => {
      const result = await this.db.eval(
        SAVE_CONNECTION,
        [
          this.db.keys.connection(record.id),
          this.db.keys.connections,
          this.db.keys.due,
          this.db.keys.apps,
          ...(release ? [this.db.keys.lease(release.key)] : []),
        ],
        [
          expectedVersion === undefined ? '' : String(expectedVersion),
          record.id,
          record.app,
          String(record.refreshDueAt ?? 0),
          claimable ? '1' : '0',
          this.db.prefix,
          events,
          release ? `${release.fencingToken}:${release.owner}` : '',
          ...hashFields(encoded),
        ],
      )
      if (Array.isArray(result) && result[0] === 'ok') await this.db.waitForReplicas('save a connection')
      return result
    })) as [string, string?]
    if (answer[0] === 'unknown_app') throw unknownAppError(record.app)
    if (answer[0] === 'conflict')
      throw versionConflictError(record.id, expectedVersion ?? 0, Number(answer[1]))
    return { ...structuredClone(record), version: Number(answer[1]) }
  }

  async deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    const deleted = await this.db.run('delete a connection', () =>
      this.db.eval(
        DELETE_CONNECTION,
        [this.db.keys.connection(id), this.db.keys.connections, this.db.keys.due],
        [id, this.db.prefix, outboxArgument(outbox)],
      ),
    )
    return deleted === 1
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    const encoded = encodePendingAuthorization(this.keyring, pending)
    const gcMs = Math.max(0, pending.expiresAt - Date.now()) + PENDING_GC_MARGIN_MS
    const stored = await this.db.run('save a pending authorization', () =>
      this.db.eval(
        PUT_PENDING,
        [this.db.keys.apps, this.db.keys.pending(pending.state), this.db.keys.appPending(pending.app)],
        [
          pending.app,
          JSON.stringify(encoded),
          String(pending.createdAt),
          String(Math.ceil(gcMs)),
          pending.state,
        ],
      ),
    )
    if (stored !== 1) throw unknownAppError(pending.app)
  }

  async takePendingAuthorization(state: string, now: number): Promise<PendingAuthorization | null> {
    const json = (await this.db.run('take a pending authorization', () =>
      this.db.eval(TAKE_PENDING, [this.db.keys.pending(state)], []),
    )) as string | null
    if (json === null) return null
    const pending = pendingFromJson(this.keyring, json)
    await this.db.run('tidy pending authorizations', () =>
      this.db.client.zrem(this.db.keys.appPending(pending.app), state),
    )
    return pending.expiresAt > now ? pending : null
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    return this.db.run('find the latest pending authorization', async () => {
      const states = await this.db.client.zrevrange(this.db.keys.appPending(app), 0, -1)
      if (states.length === 0) return null
      const values = await this.db.client.mget(...states.map((state) => this.db.keys.pending(state)))
      const gone = states.filter((_, index) => values[index] === null)
      if (gone.length > 0) await this.db.client.zrem(this.db.keys.appPending(app), ...gone)
      for (const value of values) {
        if (value === null) continue
        const pending = pendingFromJson(this.keyring, value)
        if (pending.app === app && pending.expiresAt > now) return pending
      }
      return null
    })
  }

  // Leases and the claim are judged by the Redis server's clock (leases.ts): `now` is not used.
  acquireLease(key: string, owner: string, ttlMs: number, _now: number): Promise<Lease | null> {
    return leases.acquireLease(this.db, key, owner, ttlMs)
  }
  leaseConnection(id: string, owner: string, ttlMs: number, _now: number): Promise<LeasedConnection> {
    return leases.leaseConnection(this.db, this.keyring, id, owner, ttlMs)
  }
  renewLease(lease: Lease, ttlMs: number, _now: number): Promise<boolean> {
    return leases.renewLease(this.db, lease, ttlMs)
  }
  releaseLease(lease: Lease): Promise<boolean> {
    return leases.releaseLease(this.db, lease)
  }
  getLease(key: string, _now: number): Promise<Lease | null> {
    return leases.getLease(this.db, key)
  }
  claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]> {
    return leases.claimDueConnections(this.db, this.keyring, now, limit, owner, leaseMs)
  }

  async putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    await this.db.run('save a document', () =>
      this.db.client
        .multi()
        .hset(this.db.keys.documents(collection), id, JSON.stringify(value))
        .publish(this.db.keys.changes, documentChangePayload(collection, id))
        .exec(),
    )
  }

  async getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    const json = await this.db.run('read a document', () =>
      this.db.client.hget(this.db.keys.documents(collection), id),
    )
    return json === null ? null : (JSON.parse(json) as Record<string, unknown>)
  }

  async listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    const hash = await this.db.run('list documents', () =>
      this.db.client.hgetall(this.db.keys.documents(collection)),
    )
    return Object.entries(hash)
      .sort(([a], [b]) => compare(a, b))
      .map(([id, json]) => ({ id, value: JSON.parse(json) as Record<string, unknown> }))
  }

  async deleteDocument(collection: string, id: string): Promise<boolean> {
    const results = await this.db.run('delete a document', () =>
      this.db.client
        .multi()
        .hdel(this.db.keys.documents(collection), id)
        .publish(this.db.keys.changes, documentChangePayload(collection, id))
        .exec(),
    )
    return Number(results?.[0]?.[1] ?? 0) > 0
  }

  async useDocumentOnce(
    collection: string,
    id: string,
    now: number,
  ): Promise<Record<string, unknown> | null> {
    const json = (await this.db.run('use a document', () =>
      this.db.eval(USE_DOCUMENT_ONCE, [this.db.keys.documents(collection)], [id, String(now)]),
    )) as string | null
    if (json !== null)
      await this.db.run('announce a document change', () =>
        this.db.client.publish(this.db.keys.changes, documentChangePayload(collection, id)),
      )
    return json === null ? null : (JSON.parse(json) as Record<string, unknown>)
  }

  countSecretsByKeyId(): Promise<Record<string, number>> {
    return this.db.run('count secrets by key id', () => this.reseal.countSecretsByKeyId())
  }
  async reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    const result = await this.db.run('re-encrypt secrets', () => this.reseal.reencryptSecrets(cursor, limit))
    if (result.reencrypted > 0)
      await this.db.run('re-encrypt secrets', () => this.db.waitForReplicas('re-encrypt secrets'))
    return result
  }
  appendAudit(entries: AuditEntry[]): Promise<void> {
    return this.db.run('append to the audit trail', () => this.audit.appendAudit(entries))
  }
  listAudit(filter?: ListAuditFilter): Promise<AuditEntry[]> {
    return this.db.run('read the audit trail', () => this.audit.listAudit(filter))
  }
  countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return this.db.run('count the audit trail', () => this.audit.countAudit(since, bucketMs))
  }
  pruneAudit(before: number): Promise<number> {
    return this.db.run('prune the audit trail', () => this.audit.pruneAudit(before))
  }

  durabilityWarning(): Promise<string | undefined> {
    return durabilityWarning(this.db)
  }

  async ping(): Promise<void> {
    await this.db.run('answer a ping', () => this.db.client.ping())
  }

  async close(): Promise<void> {
    if (!this.db.markClosed()) return
    await this.changes.shutdown()
    await this.db.client.quit().catch(() => this.db.client.disconnect())
  }
}
