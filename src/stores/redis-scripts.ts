// The Lua scripts of the Redis store. Each one runs atomically inside Redis, which is what makes
// compare-and-swap saves, fenced leases and claims safe across many processes. Lease expiry is
// judged by the Redis server's clock (`TIME`, read inside the script), never a caller's, so a
// worker whose clock is off by minutes can never take a lease that is still held. Other times
// (a connection's `refreshDueAt`, pending authorizations) are the caller's `now`.
//
// The scripts that write connections PUBLISH the connection id (`*` for a deleted app) on
// `<prefix>changes` as part of the write: the store's changes feed (see changes.ts).
//
// Lease values are `<fencing token>:<expires at>:<owner>` (owner last: it may contain ':').
// Keys are built inside some scripts from the prefix, so the store needs one Redis primary
// (Redis Cluster would need every key in one hash slot; see docs/stores.md).

import { createHash } from 'node:crypto'

export interface RedisScript {
  name: string
  lua: string
  sha1: string
}

function script(name: string, lua: string): RedisScript {
  return { name, lua, sha1: createHash('sha1').update(lua).digest('hex') }
}

/**
 * Shared Lua helpers: the server's time in ms, parse a lease value, and write one. Scripts that
 * read `TIME` and then write need effects replication: the default since Redis 5, asked for on
 * older servers.
 */
const LEASE_HELPERS = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function lease_expiry(value)
  if not value then return nil end
  local token, expires, owner = string.match(value, '^(%d+):(-?%d+):(.*)$')
  if not token then return nil end
  return tonumber(expires), token, owner
end
local function write_lease(key, token, expires_at, owner, gc_ms)
  local expires = string.format('%.0f', expires_at)
  redis.call('SET', key, token .. ':' .. expires .. ':' .. owner, 'PX', gc_ms)
  return expires
end
`

/**
 * Shared Lua helper: enqueue outbox entries given as JSON ('' = none; numbers as strings) under a
 * key prefix, as the outbox's own enqueue does (redis-outbox.ts). Used by the scripts that write
 * a connection together with the webhook events of that change.
 */
const OUTBOX_HELPERS = `
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

/**
 * KEYS: connection hash, all-connections set, due zset, apps set.
 * ARGV: expected version ('' = unconditional), id, app, refreshDueAt, claimable ('1'/'0'),
 *       key prefix, outbox entries as JSON ('' = none; numbers as strings), then field/value
 *       pairs of the encoded connection (without `version`).
 * Answers {'ok', newVersion} | {'conflict', storedVersion} | {'unknown_app'}. The outbox entries
 * (the webhook events of this change) are enqueued in the same script, only when it saves, as
 * the outbox's own enqueue does (redis-outbox.ts).
 */
export const SAVE_CONNECTION = script(
  'innkeeper_save_connection',
  `${OUTBOX_HELPERS}
if redis.call('SISMEMBER', KEYS[4], ARGV[3]) == 0 then return {'unknown_app'} end
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {'conflict', tostring(current)} end
local previous_app = redis.call('HGET', KEYS[1], 'app')
if previous_app and previous_app ~= ARGV[3] then
  redis.call('SREM', ARGV[6] .. 'app-connections:' .. previous_app, ARGV[2])
end
local version = current + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', tostring(version), unpack(ARGV, 8))
enqueue_outbox(ARGV[6], ARGV[7])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', ARGV[6] .. 'app-connections:' .. ARGV[3], ARGV[2])
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
else
  redis.call('ZREM', KEYS[3], ARGV[2])
end
redis.call('PUBLISH', ARGV[6] .. 'changes', ARGV[2])
return {'ok', tostring(version)}
`,
)

/**
 * KEYS: connection hash, all-connections set, due zset. ARGV: id, key prefix, outbox entries as
 * JSON ('' = none; see OUTBOX_HELPERS). Answers 1 or 0. The outbox entries (the webhook events of
 * this delete) are enqueued in the same script, only when it deletes.
 */
export const DELETE_CONNECTION = script(
  'innkeeper_delete_connection',
  `${OUTBOX_HELPERS}
local app = redis.call('HGET', KEYS[1], 'app')
if not app then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', ARGV[2] .. 'app-connections:' .. app, ARGV[1])
enqueue_outbox(ARGV[2], ARGV[3] or '')
redis.call('PUBLISH', ARGV[2] .. 'changes', ARGV[1])
return 1
`,
)

/**
 * KEYS: apps set, app hash, app's connections set, app's pending zset, all-connections set, due zset.
 * ARGV: app name, key prefix. Answers 1 when the app existed.
 */
export const DELETE_APP = script(
  'innkeeper_delete_app',
  `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('DEL', ARGV[2] .. 'connection:' .. id)
  redis.call('SREM', KEYS[5], id)
  redis.call('ZREM', KEYS[6], id)
end
for _, state in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  redis.call('DEL', ARGV[2] .. 'pending:' .. state)
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[2] .. 'changes', '*')
return 1
`,
)

/**
 * KEYS: apps set, pending key, app's pending zset. ARGV: app, encoded JSON, createdAt, gc ms, state.
 * Answers 1, or 0 when the app does not exist.
 */
export const PUT_PENDING = script(
  'innkeeper_put_pending',
  `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
return 1
`,
)

/** KEYS: pending key. Single-use read: GET and DEL in one step (works before Redis 6.2's GETDEL). */
export const TAKE_PENDING = script(
  'innkeeper_take_pending',
  `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`,
)

/**
 * KEYS: lease key, fencing counter. ARGV: owner, ttl ms, gc ms.
 * Answers {token, expiresAt} or nil when someone holds a lease unexpired by the server's clock.
 */
export const ACQUIRE_LEASE = script(
  'innkeeper_acquire_lease',
  `${LEASE_HELPERS}
local now = server_now()
local expires = lease_expiry(redis.call('GET', KEYS[1]))
if expires and expires > now then return nil end
local token = redis.call('INCR', KEYS[2])
local expires_at = write_lease(KEYS[1], token, now + tonumber(ARGV[2]), ARGV[1], ARGV[3])
return {tostring(token), expires_at}
`,
)

/** KEYS: lease key. ARGV: owner, fencing token, ttl ms, gc ms. Answers 1 when renewed. */
export const RENEW_LEASE = script(
  'innkeeper_renew_lease',
  `${LEASE_HELPERS}
local expires, token, owner = lease_expiry(redis.call('GET', KEYS[1]))
if not expires or token ~= ARGV[2] or owner ~= ARGV[1] then return 0 end
write_lease(KEYS[1], token, server_now() + tonumber(ARGV[3]), ARGV[1], ARGV[4])
return 1
`,
)

/** KEYS: lease key. Answers the lease value while it is unexpired by the server's clock, else nil. */
export const GET_LEASE = script(
  'innkeeper_get_lease',
  `${LEASE_HELPERS}
local value = redis.call('GET', KEYS[1])
local expires = lease_expiry(value)
if not expires or expires <= server_now() then return nil end
return value
`,
)

/** KEYS: lease key. ARGV: owner, fencing token. Answers 1 when released. */
export const RELEASE_LEASE = script(
  'innkeeper_release_lease',
  `${LEASE_HELPERS}
local expires, token, owner = lease_expiry(redis.call('GET', KEYS[1]))
if not expires or token ~= ARGV[2] or owner ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
)

/**
 * KEYS: due zset, fencing counter. ARGV: now (the caller's, for due times), limit, owner, lease
 * ms, gc ms, key prefix, refresh lease key prefix (`refresh:`). Leases are judged and granted by
 * the server's clock. Walks due connections earliest first (ties by id),
 * skips those not claimable or leased, leases the rest up to `limit`.
 * Answers a list of {id, token, expiresAt, hash field/value list}.
 */
export const CLAIM_DUE = script(
  'innkeeper_claim_due',
  `${LEASE_HELPERS}
local now = server_now()
local limit = tonumber(ARGV[2])
local claimed = {}
local offset = 0
local batch = 200
while #claimed < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', offset, batch)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if #claimed >= limit then break end
    local connection_key = ARGV[6] .. 'connection:' .. id
    local state = redis.call('HGET', connection_key, 'state')
    if state == 'active' or state == 'error' then
      local lease_key = ARGV[6] .. 'lease:' .. ARGV[7] .. id
      local expires = lease_expiry(redis.call('GET', lease_key))
      if not expires or expires <= now then
        local token = redis.call('INCR', KEYS[2])
        local expires_at = write_lease(lease_key, token, now + tonumber(ARGV[4]), ARGV[3], ARGV[5])
        claimed[#claimed + 1] = {id, tostring(token), expires_at, redis.call('HGETALL', connection_key)}
      end
    end
  end
  offset = offset + batch
end
return claimed
`,
)

/**
 * KEYS[1] documents hash; ARGV id, now. Sets `usedAt` on an unused, unexpired document (single use
 * of connect links) and returns it; nil otherwise. The stored JSON is extended, not re-encoded, so
 * its other values keep their exact form.
 */
export const USE_DOCUMENT_ONCE = script(
  'use-document-once',
  `
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return nil end
local ok, value = pcall(cjson.decode, json)
if not ok or type(value) ~= 'table' then return nil end
if value['usedAt'] ~= nil then return nil end
local now = tonumber(ARGV[2])
if type(value['expiresAt']) ~= 'number' or value['expiresAt'] <= now then return nil end
local used = string.sub(json, 1, -2) .. ',"usedAt":' .. ARGV[2] .. '}'
redis.call('HSET', KEYS[1], ARGV[1], used)
return used
`,
)
