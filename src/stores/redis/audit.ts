// The audit trail in the Redis store: sorted sets scored by time, `audit` (every entry's JSON)
// and `audit-connection:<id>` (the same members, for one connection's entries); counting and
// pruning run as Lua scripts inside Redis so the entries never cross the wire.

import type { AuditCount, AuditEntry, ListAuditFilter } from '../store.js'
import { type RedisDatabase, redisScript } from './database.js'

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

export class RedisAudit {
  constructor(private readonly db: RedisDatabase) {}

  private key(name: string): string {
    return `${this.db.prefix}${name}`
  }

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    const multi = this.db.client.multi()
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
    const members = await this.db.client.zrevrangebyscore(
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
    const flat = (await this.db.eval(
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
        await this.db.eval(PRUNE_AUDIT, [this.key('audit')], [String(before), this.db.prefix, '500']),
      )
      removed += batch
      if (batch < 500) return removed
    }
  }
}
