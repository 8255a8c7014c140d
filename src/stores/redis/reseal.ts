// Key rotation in the Redis store: counting and re-sealing secrets under the current key, each
// swap a Lua compare-and-set on the ciphertext (and on a connection's version, which stays as it
// is). The walk itself (phases, cursor) is the shared one in ../reseal.ts.

import type { Keyring } from '../../crypto/keyring.js'
import type { EncodedPendingAuthorization } from '../codec.js'
import { type ResealCandidate, type ResealPhase, reencryptInPhases } from '../reseal.js'
import type { ReencryptResult } from '../store.js'
import { type RedisDatabase, redisScript } from './database.js'

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

export class RedisReseal {
  constructor(
    private readonly db: RedisDatabase,
    private readonly keyring: Keyring,
  ) {}

  private key(name: string): string {
    return `${this.db.prefix}${name}`
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
        (await this.db.eval(
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
        const swapped = await this.db.eval(
          RESEAL_PENDING,
          [this.key(`pending:${candidate.id}`)],
          [json, JSON.stringify(value)],
        )
        return swapped === 1
      },
    }
    return reencryptInPhases(
      this.keyring,
      {
        app: hashPhase('app', 'apps', 'app:', 'clientSecret'),
        connection: hashPhase('connection', 'connections', 'connection:', 'secrets'),
        pending: pendingPhase,
      },
      cursor,
      limit,
    )
  }

  /** Every member of `set` with its hash's sealed `field`, key id and version, by id. */
  private async sealedHashes(
    set: string,
    keyPrefix: string,
    field: string,
  ): Promise<Array<{ id: string; sealed: string; keyId: string; version: string | null }>> {
    const redis = this.db.client
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
    const redis = this.db.client
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
