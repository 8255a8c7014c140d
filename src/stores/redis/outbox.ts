// The webhook outbox of the Redis store. Each entry is a hash `outbox:entry:<id>`; `outbox:all`
// (sorted by sequence) lists pending and dead entries; `outbox:key:<ordering key>` holds the
// pending entries of one receiver and connection in order; `outbox:due` holds only the first
// pending entry of each ordering key, scored by when it may next be claimed (its next attempt,
// or its claim's expiry while claimed). Lua scripts make enqueue, claim, complete and fail
// atomic, so concurrent dispatchers never claim one entry twice. See `../outbox.ts`.
import {
  clipOutboxError,
  type ListOutboxFilter,
  type OutboxEntry,
  type OutboxEntryInput,
  type OutboxStore,
} from '../outbox.js'
import { type RedisDatabase, type RedisScript, redisScript } from './database.js'
import { pairsToObject } from './rows.js'

/**
 * Lua `enqueue_outbox(prefix, entries)`: enqueues entries given as JSON (see `outboxArgument`;
 * '' = none), skipping ids already there. The outbox's own enqueue runs it, and so do the
 * scripts that write a connection together with the webhook events of that change (scripts.ts).
 */
export const ENQUEUE_OUTBOX_LUA = `
local function enqueue_outbox(p, entries)
  if entries == '' then return end
  for _, e in ipairs(cjson.decode(entries)) do
    local entry_key = p .. 'outbox:entry:' .. e.id
    if redis.call('EXISTS', entry_key) == 0 then
      local seq = redis.call('INCR', p .. 'outbox:seq')
      redis.call('HSET', entry_key, 'id', e.id, 'eventId', e.eventId, 'receiverId', e.receiverId,
        'orderingKey', e.orderingKey, 'body', e.body, 'createdAt', e.createdAt, 'nextAttemptAt', e.nextAttemptAt,
        'seq', seq, 'state', 'pending', 'attempts', 0)
      redis.call('ZADD', p .. 'outbox:all', seq, e.id)
      local order_key = p .. 'outbox:key:' .. e.orderingKey
      redis.call('ZADD', order_key, seq, e.id)
      if redis.call('ZCARD', order_key) == 1 then redis.call('ZADD', p .. 'outbox:due', e.nextAttemptAt, e.id) end
    end
  end
end
`

/** Outbox entries as `enqueue_outbox` takes them: JSON with numbers as strings, '' for none. */
export function outboxArgument(entries: OutboxEntryInput[]): string {
  if (entries.length === 0) return ''
  return JSON.stringify(
    entries.map((entry) => ({
      ...entry,
      createdAt: String(entry.createdAt),
      nextAttemptAt: String(entry.nextAttemptAt),
    })),
  )
}

/** Shared helpers: key names from the prefix, and moving the next entry of a key into `due`. */
const OUTBOX_HELPERS = `
local prefix = ARGV[1]
local function entry_key(id) return prefix .. 'outbox:entry:' .. id end
local function order_key(k) return prefix .. 'outbox:key:' .. k end
local due_key = prefix .. 'outbox:due'
local all_key = prefix .. 'outbox:all'
local function promote_head(k)
  local head = redis.call('ZRANGE', order_key(k), 0, 0)[1]
  if head then redis.call('ZADD', due_key, redis.call('HGET', entry_key(head), 'nextAttemptAt'), head) end
end
local function remove_entry(id)
  local k = redis.call('HGET', entry_key(id), 'orderingKey')
  redis.call('DEL', entry_key(id))
  redis.call('ZREM', all_key, id)
  redis.call('ZREM', due_key, id)
  if k then redis.call('ZREM', order_key(k), id) end
  return k
end
`

/** ARGV: prefix, entries as JSON (`outboxArgument`). */
const ENQUEUE = redisScript(
  'innkeeper_outbox_enqueue',
  `${ENQUEUE_OUTBOX_LUA}
enqueue_outbox(ARGV[1], ARGV[2])
return 1`,
)

/** ARGV: prefix, now, limit, owner, leaseMs. Answers the claimed entries as flat hashes. */
const CLAIM = redisScript(
  'innkeeper_outbox_claim',
  `${OUTBOX_HELPERS}
local now = tonumber(ARGV[2])
local expires = string.format('%.0f', now + tonumber(ARGV[5]))
local ids = redis.call('ZRANGEBYSCORE', due_key, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for _, id in ipairs(ids) do
  redis.call('HSET', entry_key(id), 'claimOwner', ARGV[4], 'claimExpiresAt', expires)
  redis.call('ZADD', due_key, expires, id)
  table.insert(claimed, redis.call('HGETALL', entry_key(id)))
end
return claimed`,
)

/** ARGV: prefix, id. */
const COMPLETE = redisScript(
  'innkeeper_outbox_complete',
  `${OUTBOX_HELPERS}
if redis.call('EXISTS', entry_key(ARGV[2])) == 0 then return 0 end
local k = remove_entry(ARGV[2])
if k then promote_head(k) end
return 1`,
)

/** ARGV: prefix, id, owner, next attempt ('' = dead), error. */
const FAIL = redisScript(
  'innkeeper_outbox_fail',
  `${OUTBOX_HELPERS}
local key = entry_key(ARGV[2])
if redis.call('HGET', key, 'state') ~= 'pending' or redis.call('HGET', key, 'claimOwner') ~= ARGV[3] then return 0 end
redis.call('HINCRBY', key, 'attempts', 1)
redis.call('HSET', key, 'lastError', ARGV[5])
redis.call('HDEL', key, 'claimOwner', 'claimExpiresAt')
if ARGV[4] == '' then
  local k = redis.call('HGET', key, 'orderingKey')
  redis.call('HSET', key, 'state', 'dead')
  redis.call('ZREM', due_key, ARGV[2])
  redis.call('ZREM', order_key(k), ARGV[2])
  promote_head(k)
else
  redis.call('HSET', key, 'nextAttemptAt', ARGV[4])
  redis.call('ZADD', due_key, ARGV[4], ARGV[2])
end
return 1`,
)

/** ARGV: prefix, receiver id. Every ordering key belongs to one receiver, so whole keys go. */
const PURGE = redisScript(
  'innkeeper_outbox_purge',
  `${OUTBOX_HELPERS}
local removed = 0
for _, id in ipairs(redis.call('ZRANGE', all_key, 0, -1)) do
  if redis.call('HGET', entry_key(id), 'receiverId') == ARGV[2] then
    remove_entry(id)
    removed = removed + 1
  end
end
return removed`,
)

export class RedisOutbox implements OutboxStore {
  private readonly prefix: string

  constructor(private readonly db: RedisDatabase) {
    this.prefix = db.prefix
  }

  private run<T>(operation: string, action: () => Promise<T>): Promise<T> {
    return this.db.run(operation, action)
  }

  private evalScript(script: RedisScript, args: string[]): Promise<unknown> {
    return this.db.eval(script, [], args)
  }

  async enqueue(entries: OutboxEntryInput[]): Promise<void> {
    if (entries.length === 0) return
    await this.run('enqueue webhook deliveries', () =>
      this.evalScript(ENQUEUE, [this.prefix, outboxArgument(entries)]),
    )
  }

  async claim(now: number, limit: number, owner: string, leaseMs: number): Promise<OutboxEntry[]> {
    if (limit <= 0) return []
    const answer = (await this.run('claim webhook deliveries', () =>
      this.evalScript(CLAIM, [this.prefix, String(now), String(limit), owner, String(leaseMs)]),
    )) as string[][]
    return answer.map((pairs) => outboxEntryFromHash(pairsToObject(pairs)))
  }

  async complete(id: string): Promise<boolean> {
    const answer = await this.run('complete a webhook delivery', () =>
      this.evalScript(COMPLETE, [this.prefix, id]),
    )
    return Number(answer) === 1
  }

  async fail(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<boolean> {
    const answer = await this.run('record a failed webhook delivery', () =>
      this.evalScript(FAIL, [
        this.prefix,
        id,
        owner,
        nextAttemptAt === null ? '' : String(nextAttemptAt),
        clipOutboxError(error),
      ]),
    )
    return Number(answer) === 1
  }

  async list(filter: ListOutboxFilter = {}): Promise<OutboxEntry[]> {
    const limit = filter.limit ?? 100
    return this.run('list webhook deliveries', async () => {
      const ids = await this.db.client.zrange(`${this.prefix}outbox:all`, 0, -1)
      const pipeline = this.db.client.pipeline()
      for (const id of ids) pipeline.hgetall(`${this.prefix}outbox:entry:${id}`)
      const results = (await pipeline.exec()) ?? []
      return results
        .map(([, hash]) => hash as Record<string, string>)
        .filter((hash) => hash && Object.keys(hash).length > 0)
        .map(outboxEntryFromHash)
        .filter(
          (entry) =>
            (filter.receiverId === undefined || entry.receiverId === filter.receiverId) &&
            (filter.state === undefined || entry.state === filter.state),
        )
        .slice(0, limit)
    })
  }

  async purge(receiverId: string): Promise<number> {
    const answer = await this.run('remove webhook deliveries', () =>
      this.evalScript(PURGE, [this.prefix, receiverId]),
    )
    return Number(answer)
  }
}

function outboxEntryFromHash(hash: Record<string, string>): OutboxEntry {
  const entry: OutboxEntry = {
    id: hash.id ?? '',
    eventId: hash.eventId ?? '',
    receiverId: hash.receiverId ?? '',
    orderingKey: hash.orderingKey ?? '',
    body: hash.body ?? '',
    createdAt: Number(hash.createdAt),
    nextAttemptAt: Number(hash.nextAttemptAt),
    seq: Number(hash.seq),
    state: hash.state === 'dead' ? 'dead' : 'pending',
    attempts: Number(hash.attempts ?? 0),
  }
  if (hash.lastError !== undefined) entry.lastError = hash.lastError
  if (hash.claimOwner !== undefined) entry.claimOwner = hash.claimOwner
  if (hash.claimExpiresAt !== undefined) entry.claimExpiresAt = Number(hash.claimExpiresAt)
  return entry
}
