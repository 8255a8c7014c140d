// Key rotation and the audit trail in the Redis store: counting and re-sealing secrets under the
// current key (each swap a Lua compare-and-set on the ciphertext, and on a connection's version,
// which stays as it is), and the audit trail as sorted sets scored by time.
//
// Keys (under the prefix): `audit` (zset of entry JSON by time), `audit-connection:<id>` (zset,
// the same members, for one connection's entries).

import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Keyring } from '../crypto/keyring.js'
import type { EncodedPendingAuthorization } from './codec.js'
import type { RedisScript } from './redis-scripts.js'
import { type ResealCandidate, type ResealPhase, reencryptInPhases } from './reseal.js'
import type { AuditCount, AuditEntry, ListAuditFilter, ReencryptResult } from './store.js'

/**
 * KEYS: the hash. ARGV: secret field, expected ciphertext, new ciphertext, new key id,
 * expected version ('' for apps). Answers 1 when swapped, 0 when the record changed.
 */
const RESEAL_HASH = redisScript(
  'innkeeper_reseal_hash',
  `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], 'keyId', ARGV[4])
return 1
`,
)

/** KEYS: the pending key. ARGV: expected JSON, new JSON. Keeps the key's expiry. */
const RESEAL_PENDING = redisScript(
  'innkeeper_reseal_pending',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
`,
)

/** KEYS: the audit zset. ARGV: before (ms), key prefix, batch size. Answers how many it removed. */
const PRUNE_AUDIT = redisScript(
  'innkeeper_prune_audit',
  `
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(old) do
  local ok, entry = pcall(cjson.decode, member)
  if ok and type(entry) == 'table' and type(entry.connection) == 'string' then
    redis.call('ZREM', ARGV[2] .. 'audit-connection:' .. entry.connection, member)
  end
  redis.call('ZREM', KEYS[1], member)
end
return #old
`,
)

/**
 * KEYS: the audit zset. ARGV: since (ms), bucket width (ms). Counts inside Redis so the entries
 * never cross the wire; answers flat [bucket, action, outcome, count, …].
 */
const COUNT_AUDIT = redisScript(
  'innkeeper_count_audit',
  `
local width = tonumber(ARGV[2])
local counts = {}
local order = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  local ok, entry = pcall(cjson.decode, member)
  if ok and type(entry) == 'table' and type(entry.at) == 'number' then
    local bucket = string.format('%.0f', math.floor(entry.at / width) * width)
    local key = bucket .. ' ' .. tostring(entry.action) .. ' ' .. tostring(entry.outcome)
    if counts[key] == nil then
      counts[key] = { bucket, tostring(entry.action), tostring(entry.outcome), 0 }
      order[#order + 1] = key
    end
    counts[key][4] = counts[key][4] + 1
  end
end
local out = {}
for _, key in ipairs(order) do
  local row = counts[key]
  out[#out + 1] = row[1]; out[#out + 1] = row[2]; out[#out + 1] = row[3]; out[#out + 1] = row[4]
end
return out
`,
)

function redisScript(name: string, lua: string): RedisScript {
  return { name, lua, sha1: createHash('sha1').update(lua).digest('hex') }
}

export interface RedisAccess {
  redis: Redis
  prefix: string
  keyring: Keyring
  eval(script: RedisScript, keys: string[], args: string[]): Promise<unknown>
}

export class RedisOperations {
  constructor(private readonly access: RedisAccess) {}

  private key(name: string): string {
    return `${this.access.prefix}${name}`
  }

  async countSecretsByKeyId(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    const add = (keyId: string | null | undefined) => {
      if (keyId) counts[keyId] = (counts[keyId] ?? 0) + 1
    }
    for (const { keyId } of await this.sealedHashes('apps', 'app:', 'clientSecret')) add(keyId)
    for (const { keyId } of await this.sealedHashes('connections', 'connection:', 'secrets')) add(keyId)
    for (const pending of await this.pendingRecords())
      if (pending.value.codeVerifier) add(pending.value.keyId)
    return counts
  }

  async reencryptSecrets(cursor: string | null, limit: number): Promise<ReencryptResult> {
    const { keyring } = this.access
    const hashPhase = (
      kind: 'app' | 'connection',
      set: string,
      keyPrefix: string,
      field: string,
    ): ResealPhase => ({
      kind,
      list: async (after, count, currentKeyId) =>
        (await this.sealedHashes(set, keyPrefix, field))
          .filter((row) => row.id > after && row.keyId !== currentKeyId)
          .slice(0, Math.max(0, count))
          .map((row) => ({
            id: row.id,
            sealed: row.sealed,
            ...(kind === 'connection' ? { version: Number(row.version) } : {}),
          })),
      swap: async (candidate, resealed, keyId) =>
        (await this.access.eval(
          RESEAL_HASH,
          [this.key(`${keyPrefix}${candidate.id}`)],
          [
            field,
            candidate.sealed,
            resealed,
            keyId,
            candidate.version === undefined ? '' : String(candidate.version),
          ],
        )) === 1,
    })
    const pendingJson = new Map<string, string>()
    const pendingPhase: ResealPhase = {
      kind: 'pending',
      list: async (after, count, currentKeyId) => {
        const candidates: ResealCandidate[] = []
        for (const { state, json, value } of await this.pendingRecords()) {
          if (state <= after || !value.codeVerifier || value.keyId === currentKeyId) continue
          pendingJson.set(state, json)
          candidates.push({ id: state, sealed: value.codeVerifier })
        }
        return candidates.slice(0, Math.max(0, count))
      },
      swap: async (candidate, resealed, keyId) => {
        const json = pendingJson.get(candidate.id)
        if (json === undefined) return false
        const value = { ...(JSON.parse(json) as EncodedPendingAuthorization), codeVerifier: resealed, keyId }
        const swapped = await this.access.eval(
          RESEAL_PENDING,
          [this.key(`pending:${candidate.id}`)],
          [json, JSON.stringify(value)],
        )
        return swapped === 1
      },
    }
    return reencryptInPhases(
      keyring,
      {
        app: hashPhase('app', 'apps', 'app:', 'clientSecret'),
        connection: hashPhase('connection', 'connections', 'connection:', 'secrets'),
        pending: pendingPhase,
      },
      cursor,
      limit,
    )
  }

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    const multi = this.access.redis.multi()
    for (const entry of entries) {
      // `id` first, so members with the same time sort by id.
      const { id, ...rest } = entry
      const member = JSON.stringify({ id, ...rest })
      multi.zadd(this.key('audit'), entry.at, member)
      if (entry.connection !== undefined) {
        multi.zadd(this.key(`audit-connection:${entry.connection}`), entry.at, member)
      }
    }
    const results = await multi.exec()
    for (const [error] of results ?? []) if (error) throw error
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEntry[]> {
    const key =
      filter.connection === undefined ? this.key('audit') : this.key(`audit-connection:${filter.connection}`)
    const members = await this.access.redis.zrevrangebyscore(
      key,
      '+inf',
      filter.since === undefined ? '-inf' : String(filter.since),
      'LIMIT',
      0,
      filter.limit ?? 100,
    )
    return members.map((member) => JSON.parse(member) as AuditEntry)
  }

  async countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    const flat = (await this.access.eval(
      COUNT_AUDIT,
      [this.key('audit')],
      [String(since), String(Math.floor(bucketMs))],
    )) as Array<string | number>
    const counts: AuditCount[] = []
    for (let index = 0; index + 3 < flat.length; index += 4) {
      counts.push({
        bucket: Number(flat[index]),
        action: String(flat[index + 1]),
        outcome: String(flat[index + 2]) as AuditEntry['outcome'],
        count: Number(flat[index + 3]),
      })
    }
    return counts
  }

  async pruneAudit(before: number): Promise<number> {
    let removed = 0
    for (;;) {
      const batch = Number(
        await this.access.eval(PRUNE_AUDIT, [this.key('audit')], [String(before), this.access.prefix, '500']),
      )
      removed += batch
      if (batch < 500) return removed
    }
  }

  /** Every member of `set` with its hash's sealed `field`, key id and version, by id. */
  private async sealedHashes(
    set: string,
    keyPrefix: string,
    field: string,
  ): Promise<Array<{ id: string; sealed: string; keyId: string; version: string | null }>> {
    const { redis } = this.access
    const ids = (await redis.smembers(this.key(set))).sort()
    if (ids.length === 0) return []
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.hmget(this.key(`${keyPrefix}${id}`), field, 'keyId', 'version')
    const results = (await pipeline.exec()) ?? []
    const rows: Array<{ id: string; sealed: string; keyId: string; version: string | null }> = []
    results.forEach(([error, values], index) => {
      if (error) throw error
      const [sealed, keyId, version] = values as Array<string | null>
      if (sealed && keyId) rows.push({ id: ids[index]!, sealed, keyId, version: version ?? null })
    })
    return rows
  }

  /** Every stored pending authorization (found through the apps' indexes), by state. */
  private async pendingRecords(): Promise<
    Array<{ state: string; json: string; value: EncodedPendingAuthorization }>
  > {
    const { redis } = this.access
    const apps = await redis.smembers(this.key('apps'))
    const states = new Set<string>()
    for (const app of apps)
      for (const state of await redis.zrange(this.key(`app-pending:${app}`), 0, -1)) states.add(state)
    const sorted = [...states].sort()
    if (sorted.length === 0) return []
    const values = await redis.mget(...sorted.map((state) => this.key(`pending:${state}`)))
    const records: Array<{ state: string; json: string; value: EncodedPendingAuthorization }> = []
    sorted.forEach((state, index) => {
      const json = values[index]
      if (json) records.push({ state, json, value: JSON.parse(json) as EncodedPendingAuthorization })
    })
    return records
  }
}
