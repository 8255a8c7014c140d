// The Redis store: many worker processes share one Redis primary as the store and the
// coordination point. Apps and connections are hashes of public fields plus sealed secrets (the
// shared codec encrypts them), connection saves are compare-and-swap Lua scripts on a version
// field, a sorted set `due` scored by refreshDueAt feeds atomic claims, and leases carry fencing
// tokens from INCR, checked by the scripts that renew and release them.
//
// URL: redis://[:password@]host:6379/0?prefix=innkeeper:&wait=1&waitTimeout=1000
//   prefix       every key starts with it (default `innkeeper:`)
//   wait         after each token write, WAIT for this many replicas to acknowledge it
//   waitTimeout  how long WAIT may take, in ms (default 1000)
// Durability across a Redis restart is the server's job: see docs/stores.md (appendonly).

import { Redis } from 'ioredis'
import type { Keyring } from '../crypto/keyring.js'
import { StoreError } from '../errors.js'
import {
  type ChangeListener,
  ChangesHub,
  type ChangesSource,
  type ChangesSubscription,
  changeFromPayload,
  documentChangePayload,
} from './changes.js'
import {
  decodeApp,
  decodeConnection,
  decodePendingAuthorization,
  type EncodedApp,
  type EncodedConnection,
  type EncodedPendingAuthorization,
  encodeApp,
  encodeConnection,
  encodePendingAuthorization,
  unknownAppError,
  versionConflictError,
} from './codec.js'
import { driverErrorCode, type FailureReading, storeFailureOf } from './kit/errors.js'
import { redactUrl } from './kit/redact-url.js'
import type { OutboxEntryInput } from './outbox.js'
import { RedisOperations } from './redis-operations.js'
import { RedisOutbox } from './redis-outbox.js'
import {
  ACQUIRE_LEASE,
  CLAIM_DUE,
  DELETE_APP,
  DELETE_CONNECTION,
  GET_LEASE,
  PUT_PENDING,
  RELEASE_LEASE,
  RENEW_LEASE,
  type RedisScript,
  SAVE_CONNECTION,
  TAKE_PENDING,
  USE_DOCUMENT_ONCE,
} from './redis-scripts.js'
import {
  type AppRecord,
  type AuditCount,
  type AuditEntry,
  type ClaimedConnection,
  type ConnectionRecord,
  type Lease,
  type ListAuditFilter,
  type ListConnectionsFilter,
  type PendingAuthorization,
  type ReencryptResult,
  refreshLeaseKey,
  type Store,
} from './store.js'

export interface RedisStoreOptions {
  keyring: Keyring
  /** Key prefix; overrides `?prefix=`. */
  prefix?: string
  /** Replicas that must acknowledge each token write (WAIT); overrides `?wait=`. */
  waitReplicas?: number
  waitTimeoutMs?: number
}

export const DEFAULT_REDIS_PREFIX = 'innkeeper:'

/**
 * How long a lease key outlives its lease. Expiry is judged by the Redis server's clock inside
 * the scripts; the key's PX only cleans up abandoned keys.
 */
const LEASE_GC_MARGIN_MS = 60_000
/** Same for pending authorizations: kept an hour past their expiry, then dropped by Redis. */
const PENDING_GC_MARGIN_MS = 60 * 60_000

const CLAIMABLE_STATES = new Set(['active', 'error'])
/** Encoded fields held as JSON text in the hashes; the others are plain strings or numbers. */
const JSON_FIELDS = new Set(['scopes', 'settings', 'metadata', 'lastError', 'options'])

interface RedisTarget {
  url: string
  prefix: string
  waitReplicas: number
  waitTimeoutMs: number
  display: string
}

export function parseRedisUrl(url: string, options: Partial<RedisStoreOptions> = {}): RedisTarget {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new StoreError(
      'invalid_config',
      'The Redis store URL is not a valid URL; write it as redis://[:password@]host:6379/0?prefix=innkeeper:.',
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new StoreError(
      'invalid_config',
      `A Redis store URL starts with redis:// or rediss://, not ${parsed.protocol}//.`,
    )
  }
  const prefix = options.prefix ?? parsed.searchParams.get('prefix') ?? DEFAULT_REDIS_PREFIX
  const waitReplicas = options.waitReplicas ?? Number(parsed.searchParams.get('wait') ?? 0)
  const waitTimeoutMs = options.waitTimeoutMs ?? Number(parsed.searchParams.get('waitTimeout') ?? 1000)
  for (const name of ['prefix', 'wait', 'waitTimeout']) parsed.searchParams.delete(name)
  const display = redactUrl(parsed)
  if (
    !Number.isInteger(waitReplicas) ||
    waitReplicas < 0 ||
    !Number.isInteger(waitTimeoutMs) ||
    waitTimeoutMs < 0
  ) {
    throw new StoreError(
      'invalid_config',
      `In ${display}, wait and waitTimeout must be whole numbers of replicas and milliseconds (e.g. ?wait=1&waitTimeout=1000).`,
    )
  }
  return {
    url: parsed.toString(),
    prefix,
    waitReplicas,
    waitTimeoutMs,
    display: `${display} (prefix '${prefix}')`,
  }
}

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
  return new RedisStore(redis, target, options.keyring)
}

class RedisStore implements Store {
  readonly kind = 'redis' as const
  readonly leaseClock = 'server' as const
  private closed = false
  private readonly prefix: string

  constructor(
    private readonly redis: Redis,
    private readonly target: RedisTarget,
    private readonly keyring: Keyring,
  ) {
    this.prefix = target.prefix
    this.changesChannel = `${target.prefix}changes`
    this.changes = new ChangesHub(redisChangesSource(redis, this.changesChannel))
  }

  private readonly changes: ChangesHub
  private readonly changesChannel: string

  watchChanges(listener: ChangeListener): Promise<ChangesSubscription> {
    return this.run('listen for changes', () => this.changes.subscribe(listener))
  }

  // Key layout, all under the prefix.
  private appsKey = () => `${this.prefix}apps`
  private appKey = (name: string) => `${this.prefix}app:${name}`
  private appConnectionsKey = (app: string) => `${this.prefix}app-connections:${app}`
  private appPendingKey = (app: string) => `${this.prefix}app-pending:${app}`
  private connectionsKey = () => `${this.prefix}connections`
  private connectionKey = (id: string) => `${this.prefix}connection:${id}`
  private dueKey = () => `${this.prefix}due`
  private pendingKey = (state: string) => `${this.prefix}pending:${state}`
  private leaseKey = (key: string) => `${this.prefix}lease:${key}`
  private fencingKey = () => `${this.prefix}fencing`
  private documentsKey = (collection: string) => `${this.prefix}documents:${collection}`

  async putApp(app: AppRecord): Promise<void> {
    const fields = hashFields(encodeApp(this.keyring, app))
    await this.run('save an app', async () => {
      await this.redis
        .multi()
        .del(this.appKey(app.name))
        .hset(this.appKey(app.name), ...fields)
        .sadd(this.appsKey(), app.name)
        .exec()
        .then(checkTransaction)
      await this.waitForReplicas('save an app')
    })
  }

  async getApp(name: string): Promise<AppRecord | null> {
    const hash = await this.run('read an app', () => this.redis.hgetall(this.appKey(name)))
    return isEmpty(hash) ? null : this.appFromHash(hash)
  }

  async listApps(): Promise<AppRecord[]> {
    const hashes = await this.run('list apps', async () => {
      const names = await this.redis.smembers(this.appsKey())
      return this.hgetallMany(names.map((name) => this.appKey(name)))
    })
    return hashes
      .filter((hash) => !isEmpty(hash))
      .map((hash) => this.appFromHash(hash))
      .sort((a, b) => compare(a.name, b.name))
  }

  async deleteApp(name: string): Promise<boolean> {
    const deleted = await this.run('delete an app', () =>
      this.eval(
        DELETE_APP,
        [
          this.appsKey(),
          this.appKey(name),
          this.appConnectionsKey(name),
          this.appPendingKey(name),
          this.connectionsKey(),
          this.dueKey(),
        ],
        [name, this.prefix],
      ),
    )
    return deleted === 1
  }

  async getConnection(id: string): Promise<ConnectionRecord | null> {
    const hash = await this.run('read a connection', () => this.redis.hgetall(this.connectionKey(id)))
    return isEmpty(hash) ? null : this.connectionFromHash(hash)
  }

  async listConnections(filter: ListConnectionsFilter = {}): Promise<ConnectionRecord[]> {
    const hashes = await this.run('list connections', async () => {
      const ids = await this.redis.smembers(
        filter.app === undefined ? this.connectionsKey() : this.appConnectionsKey(filter.app),
      )
      return this.hgetallMany(ids.map((id) => this.connectionKey(id)))
    })
    return hashes
      .filter((hash) => !isEmpty(hash))
      .map((hash) => this.connectionFromHash(hash, { tolerant: true }))
      .sort((a, b) => compare(a.id, b.id))
  }

  async saveConnection(
    record: ConnectionRecord,
    expectedVersion?: number,
    outbox: OutboxEntryInput[] = [],
  ): Promise<ConnectionRecord> {
    const events = outboxArgument(outbox)
    const { version: _ignored, ...encoded } = encodeConnection(this.keyring, record)
    const claimable = record.refreshDueAt !== undefined && CLAIMABLE_STATES.has(record.state)
    const answer = (await this.run('save a connection', async () => {
      const result = await this.eval(
        SAVE_CONNECTION,
        [this.connectionKey(record.id), this.connectionsKey(), this.dueKey(), this.appsKey()],
        [
          expectedVersion === undefined ? '' : String(expectedVersion),
          record.id,
          record.app,
          String(record.refreshDueAt ?? 0),
          claimable ? '1' : '0',
          this.prefix,
          events,
          ...hashFields(encoded),
        ],
      )
      if (Array.isArray(result) && result[0] === 'ok') await this.waitForReplicas('save a connection')
      return result
    })) as [string, string?]
    if (answer[0] === 'unknown_app') throw unknownAppError(record.app)
    if (answer[0] === 'conflict')
      throw versionConflictError(record.id, expectedVersion ?? 0, Number(answer[1]))
    return { ...structuredClone(record), version: Number(answer[1]) }
  }

  async deleteConnection(id: string, outbox: OutboxEntryInput[] = []): Promise<boolean> {
    const deleted = await this.run('delete a connection', () =>
      this.eval(
        DELETE_CONNECTION,
        [this.connectionKey(id), this.connectionsKey(), this.dueKey()],
        [id, this.prefix, outboxArgument(outbox)],
      ),
    )
    return deleted === 1
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    const encoded = encodePendingAuthorization(this.keyring, pending)
    const gcMs = Math.max(0, pending.expiresAt - Date.now()) + PENDING_GC_MARGIN_MS
    const stored = await this.run('save a pending authorization', () =>
      this.eval(
        PUT_PENDING,
        [this.appsKey(), this.pendingKey(pending.state), this.appPendingKey(pending.app)],
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
    const json = (await this.run('take a pending authorization', () =>
      this.eval(TAKE_PENDING, [this.pendingKey(state)], []),
    )) as string | null
    if (json === null) return null
    const pending = this.pendingFromJson(json)
    await this.run('tidy pending authorizations', () =>
      this.redis.zrem(this.appPendingKey(pending.app), state),
    )
    return pending.expiresAt > now ? pending : null
  }

  async latestPendingAuthorization(app: string, now: number): Promise<PendingAuthorization | null> {
    return this.run('find the latest pending authorization', async () => {
      const states = await this.redis.zrevrange(this.appPendingKey(app), 0, -1)
      if (states.length === 0) return null
      const values = await this.redis.mget(...states.map((state) => this.pendingKey(state)))
      const gone = states.filter((_, index) => values[index] === null)
      if (gone.length > 0) await this.redis.zrem(this.appPendingKey(app), ...gone)
      for (const value of values) {
        if (value === null) continue
        const pending = this.pendingFromJson(value)
        if (pending.app === app && pending.expiresAt > now) return pending
      }
      return null
    })
  }

  // Leases are judged by the Redis server's clock (see redis-scripts.ts): `now` is not used.
  async acquireLease(key: string, owner: string, ttlMs: number, _now: number): Promise<Lease | null> {
    const granted = (await this.run('acquire a lease', () =>
      this.eval(
        ACQUIRE_LEASE,
        [this.leaseKey(key), this.fencingKey()],
        [owner, String(ttlMs), String(ttlMs + LEASE_GC_MARGIN_MS)],
      ),
    )) as [string, string] | null
    if (!granted) return null
    return { key, owner, fencingToken: Number(granted[0]), expiresAt: Number(granted[1]) }
  }

  async renewLease(lease: Lease, ttlMs: number, _now: number): Promise<boolean> {
    const renewed = await this.run('renew a lease', () =>
      this.eval(
        RENEW_LEASE,
        [this.leaseKey(lease.key)],
        [lease.owner, String(lease.fencingToken), String(ttlMs), String(ttlMs + LEASE_GC_MARGIN_MS)],
      ),
    )
    return renewed === 1
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    const released = await this.run('release a lease', () =>
      this.eval(RELEASE_LEASE, [this.leaseKey(lease.key)], [lease.owner, String(lease.fencingToken)]),
    )
    return released === 1
  }

  async getLease(key: string, _now: number): Promise<Lease | null> {
    const value = (await this.run('read a lease', () => this.eval(GET_LEASE, [this.leaseKey(key)], []))) as
      | string
      | null
    const match = value === null ? null : /^(\d+):(-?\d+):(.*)$/s.exec(value)
    if (!match) return null
    const expiresAt = Number(match[2])
    return { key, owner: match[3] ?? '', fencingToken: Number(match[1]), expiresAt }
  }

  async claimDueConnections(
    now: number,
    limit: number,
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedConnection[]> {
    if (limit <= 0) return []
    const claimed = (await this.run('claim due connections', () =>
      this.eval(
        CLAIM_DUE,
        [this.dueKey(), this.fencingKey()],
        [
          String(now),
          String(limit),
          owner,
          String(leaseMs),
          String(leaseMs + LEASE_GC_MARGIN_MS),
          this.prefix,
          refreshLeaseKey(''),
        ],
      ),
    )) as Array<[string, string, string, string[]]>
    // Tolerant: one record this process cannot open comes back marked `unreadable` (see the Store).
    return claimed.map(([id, token, expiresAt, fields]) => ({
      connection: this.connectionFromHash(pairsToObject(fields), { tolerant: true }),
      lease: { key: refreshLeaseKey(id), owner, fencingToken: Number(token), expiresAt: Number(expiresAt) },
    }))
  }

  async putDocument(collection: string, id: string, value: Record<string, unknown>): Promise<void> {
    await this.run('save a document', () =>
      this.redis
        .multi()
        .hset(this.documentsKey(collection), id, JSON.stringify(value))
        .publish(this.changesChannel, documentChangePayload(collection, id))
        .exec(),
    )
  }

  async getDocument(collection: string, id: string): Promise<Record<string, unknown> | null> {
    const json = await this.run('read a document', () => this.redis.hget(this.documentsKey(collection), id))
    return json === null ? null : (JSON.parse(json) as Record<string, unknown>)
  }

  async listDocuments(collection: string): Promise<Array<{ id: string; value: Record<string, unknown> }>> {
    const hash = await this.run('list documents', () => this.redis.hgetall(this.documentsKey(collection)))
    return Object.entries(hash)
      .sort(([a], [b]) => compare(a, b))
      .map(([id, json]) => ({ id, value: JSON.parse(json) as Record<string, unknown> }))
  }

  async deleteDocument(collection: string, id: string): Promise<boolean> {
    const results = await this.run('delete a document', () =>
      this.redis
        .multi()
        .hdel(this.documentsKey(collection), id)
        .publish(this.changesChannel, documentChangePayload(collection, id))
        .exec(),
    )
    return Number(results?.[0]?.[1] ?? 0) > 0
  }

  async useDocumentOnce(
    collection: string,
    id: string,
    now: number,
  ): Promise<Record<string, unknown> | null> {
    const json = (await this.run('use a document', () =>
      this.eval(USE_DOCUMENT_ONCE, [this.documentsKey(collection)], [id, String(now)]),
    )) as string | null
    if (json !== null)
      await this.run('announce a document change', () =>
        this.redis.publish(this.changesChannel, documentChangePayload(collection, id)),
      )
    return json === null ? null : (JSON.parse(json) as Record<string, unknown>)
  }

  // The webhook outbox lives in redis-outbox.ts.
  private outboxKeys: RedisOutbox | undefined
  get outbox(): RedisOutbox {
    this.outboxKeys ??= new RedisOutbox(
      this.redis,
      this.prefix,
      (script, keys, args) => this.eval(script, keys, args),
      (operation, action) => this.run(operation, action),
    )
    return this.outboxKeys
  }

  // Key rotation and the audit trail live in redis-operations.ts.
  private operationsKeys: RedisOperations | undefined
  private get operations(): RedisOperations {
    this.operationsKeys ??= new RedisOperations({
      redis: this.redis,
      prefix: this.prefix,
      keyring: this.keyring,
      eval: (script, keys, args) => this.eval(script, keys, args),
    })
    return this.operationsKeys
  }
  countSecretsByKeyId(): Promise<Record<string, number>> {
    return this.run('count secrets by key id', () => this.operations.countSecretsByKeyId())
  }
  async reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    const result = await this.run('re-encrypt secrets', () => this.operations.reencryptSecrets(cursor, limit))
    if (result.reencrypted > 0)
      await this.run('re-encrypt secrets', () => this.waitForReplicas('re-encrypt secrets'))
    return result
  }
  appendAudit(entries: AuditEntry[]): Promise<void> {
    return this.run('append to the audit trail', () => this.operations.appendAudit(entries))
  }
  listAudit(filter?: ListAuditFilter): Promise<AuditEntry[]> {
    return this.run('read the audit trail', () => this.operations.listAudit(filter))
  }
  countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return this.run('count the audit trail', () => this.operations.countAudit(since, bucketMs))
  }
  pruneAudit(before: number): Promise<number> {
    return this.run('prune the audit trail', () => this.operations.pruneAudit(before))
  }

  async durabilityWarning(): Promise<string | undefined> {
    const persistence = await this.run('check persistence', () => redisPersistence(this.redis))
    const where = this.target.display
    if (persistence === 'aof') return undefined
    if (persistence === 'unknown') {
      return `Could not check whether the Redis store at ${where} keeps its data across a restart (the server refuses CONFIG GET and INFO persistence): make sure it runs with appendonly yes, or tokens are lost when it restarts (docs/stores.md).`
    }
    if (persistence === 'no-aof') {
      return `The Redis store at ${where} does not use the append-only file (appendonly no): a restart loses every token written since the last snapshot, if it takes any. Set appendonly yes (docs/stores.md).`
    }
    if (persistence === 'rdb') {
      return `The Redis store at ${where} keeps only RDB snapshots (appendonly no): a restart loses every token refreshed since the last snapshot, and a rotated refresh token cannot be recovered. Set appendonly yes (docs/stores.md).`
    }
    return `The Redis store at ${where} has no persistence (appendonly no and no save points): a restart of Redis loses every token, and every connection must be authorized again. Set appendonly yes (docs/stores.md).`
  }

  async ping(): Promise<void> {
    await this.run('answer a ping', () => this.redis.ping())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.changes.shutdown()
    await this.redis.quit().catch(() => this.redis.disconnect())
  }

  private async run<T>(operation: string, action: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('store_unavailable', 'This Redis store was closed; open a new one.')
    try {
      return await action()
    } catch (error) {
      throw redisFailure(error, `${operation} in ${this.target.display}`)
    }
  }

  /** EVALSHA, loading the script on first use (or after a server restart flushed the cache). */
  private async eval(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(script.sha1, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.redis.eval(script.lua, keys.length, ...keys, ...args)
    }
  }

  /**
   * With `?wait=N`, blocks until N replicas acknowledged the writes so far, so a failover right
   * after a refresh cannot lose the new refresh token. Fewer acknowledgements is an error: the
   * write is on the primary, but the caller must not treat it as safely committed.
   */
  private async waitForReplicas(operation: string): Promise<void> {
    if (this.target.waitReplicas <= 0) return
    const acknowledged = await this.redis.wait(this.target.waitReplicas, this.target.waitTimeoutMs)
    if (acknowledged < this.target.waitReplicas) {
      throw new StoreError(
        'store_unavailable',
        `Could not ${operation} durably in ${this.target.display}: only ${acknowledged} of ${this.target.waitReplicas} replicas acknowledged it within ${this.target.waitTimeoutMs} ms. Check the replicas, or lower ?wait= in the store URL.`,
        { details: { acknowledged, required: this.target.waitReplicas } },
      )
    }
  }

  private async hgetallMany(keys: string[]): Promise<Array<Record<string, string>>> {
    if (keys.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const key of keys) pipeline.hgetall(key)
    const results = await pipeline.exec()
    return (results ?? []).map(([error, hash]) => {
      if (error) throw error
      return hash as Record<string, string>
    })
  }

  private appFromHash(hash: Record<string, string>): AppRecord {
    return decodeApp(this.keyring, fromHashFields(hash) as unknown as EncodedApp)
  }

  private connectionFromHash(
    hash: Record<string, string>,
    options: { tolerant?: boolean } = {},
  ): ConnectionRecord {
    return decodeConnection(this.keyring, fromHashFields(hash) as unknown as EncodedConnection, options)
  }

  private pendingFromJson(json: string): PendingAuthorization {
    return decodePendingAuthorization(this.keyring, JSON.parse(json) as EncodedPendingAuthorization)
  }
}

/** Field/value pairs for HSET: nulls are left out, JSON fields serialised, the rest as text. */
function hashFields(encoded: object): string[] {
  const fields: string[] = []
  for (const [field, value] of Object.entries(encoded)) {
    if (value === null || value === undefined) continue
    fields.push(field, JSON_FIELDS.has(field) ? JSON.stringify(value) : String(value))
  }
  return fields
}

/** The encoded record back from a hash; missing fields come back absent (the codec reads them as null). */
function fromHashFields(hash: Record<string, string>): Record<string, unknown> {
  const encoded: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(hash)) {
    encoded[field] = JSON_FIELDS.has(field) ? JSON.parse(value) : value
  }
  return encoded
}

function pairsToObject(pairs: string[]): Record<string, string> {
  const object: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) object[pairs[i]!] = pairs[i + 1]!
  return object
}

function isEmpty(hash: Record<string, string>): boolean {
  return Object.keys(hash).length === 0
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function checkTransaction(results: Array<[Error | null, unknown]> | null): void {
  if (results === null) throw new Error('The Redis transaction was aborted.')
  for (const [error] of results) if (error) throw error
}

/** What a failed Redis call means: server replies (READONLY, OOM…) and network errors never echo a command's arguments. */
function readRedisFailure(error: unknown): FailureReading {
  const message = error instanceof Error ? error.message : ''
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return { why: 'Redis refused the credentials', hint: 'Check the password in the store URL.' }
  }
  const code = driverErrorCode(error)
  return {
    why: message ? (message.split('\n')[0]?.slice(0, 200) ?? '') : code,
    hint: 'Check that Redis is running and the store URL points at it.',
  }
}

/** A StoreError for a failed Redis call, naming the operation and the password-free URL. */
const redisFailure = storeFailureOf(readRedisFailure)

/**
 * The changes feed on Redis: a second connection SUBSCRIBEs to `<prefix>changes`, on which the
 * writing scripts PUBLISH. ioredis reconnects and subscribes again by itself; while it is
 * disconnected the feed is not live (a message published meanwhile is lost).
 */
function redisChangesSource(redis: Redis, channel: string): ChangesSource {
  let subscriber: Redis | undefined
  return {
    async start(hub) {
      const next = redis.duplicate({ lazyConnect: true })
      next.on('error', () => undefined)
      next.on('message', (from: string, message: string) => {
        if (from === channel) hub.emit(changeFromPayload(message))
      })
      next.on('close', () => hub.setLive(false))
      // After a reconnect ioredis subscribes again before it reports ready.
      next.on('ready', () => hub.setLive(true))
      try {
        await next.connect()
        await next.subscribe(channel)
      } catch (error) {
        next.disconnect()
        throw error
      }
      subscriber = next
      hub.setLive(true)
    },
    async stop() {
      const current = subscriber
      subscriber = undefined
      current?.removeAllListeners('close')
      await current?.quit().catch(() => current.disconnect())
    },
  }
}

/**
 * How the Redis server persists: `aof` (append-only file), `rdb` (snapshots only), `none`,
 * `no-aof` (no AOF, snapshots unknown), or `unknown` when it will not say. CONFIG GET is often disabled on managed servers; INFO
 * persistence still tells whether AOF is on.
 */
async function redisPersistence(redis: Redis): Promise<'aof' | 'rdb' | 'none' | 'no-aof' | 'unknown'> {
  try {
    const appendonly = (await redis.config('GET', 'appendonly')) as string[]
    const save = (await redis.config('GET', 'save')) as string[]
    if (appendonly.length >= 2) {
      if (appendonly[1] === 'yes') return 'aof'
      return save.length >= 2 && (save[1] ?? '').trim() !== '' ? 'rdb' : 'none'
    }
  } catch {
    // Disabled or renamed (rename-command CONFIG ""), or not allowed by an ACL: ask INFO instead.
  }
  try {
    const info = await redis.info('persistence')
    if (/^aof_enabled:1\s*$/m.test(info)) return 'aof'
    if (/^aof_enabled:0\s*$/m.test(info)) return 'no-aof'
  } catch {
    // Not allowed either.
  }
  return 'unknown'
}

/** Outbox entries as the Lua scripts take them: JSON with numbers as strings, '' for none. */
function outboxArgument(outbox: OutboxEntryInput[]): string {
  if (outbox.length === 0) return ''
  return JSON.stringify(
    outbox.map((entry) => ({
      ...entry,
      createdAt: String(entry.createdAt),
      nextAttemptAt: String(entry.nextAttemptAt),
    })),
  )
}
