// The Lua scripts that write the Redis store's records (apps, connections, pending
// authorizations, single-use documents). Each one runs atomically inside Redis, which is what
// makes compare-and-swap saves safe across many processes. Times here (a connection's
// `refreshDueAt`, pending authorizations) are the caller's `now`; the lease scripts, judged by the
// server's clock, are in leases.ts.
//
// The scripts that write connections PUBLISH the connection id (`*` for a deleted app) on
// `<prefix>changes` as part of the write: the store's changes feed (see changes.ts), and enqueue
// the webhook events of the change with the outbox's own Lua (outbox.ts).
// Keys are built inside some scripts from the prefix, so the store needs one Redis primary
// (Redis Cluster would need every key in one hash slot; see docs/stores.md).

import { redisScript } from './database.js'
import { LEASE_HELPERS } from './leases.js'
import { ENQUEUE_OUTBOX_LUA } from './outbox.js'

/**
 * KEYS: connection hash, all-connections set, due zset, apps set[, lease key to release].
 * ARGV: expected version ('' = unconditional), id, app, refreshDueAt, claimable ('1'/'0'),
 *       key prefix, outbox entries as JSON ('' = none; numbers as strings), the lease to release
 *       as `<fencing token>:<owner>` ('' = none), then field/value pairs of the encoded
 *       connection (without `version`).
 * Answers {'ok', newVersion} | {'conflict', storedVersion} | {'unknown_app'}. The outbox entries
 * (the webhook events of this change) are enqueued in the same script, only when it saves, as
 * the outbox's own enqueue does (outbox.ts); so is the lease released.
 */
export const SAVE_CONNECTION = redisScript(
  'innkeeper_save_connection',
  `${ENQUEUE_OUTBOX_LUA}${LEASE_HELPERS}
if redis.call('SISMEMBER', KEYS[4], ARGV[3]) == 0 then return {'unknown_app'} end
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {'conflict', tostring(current)} end
local previous_app = redis.call('HGET', KEYS[1], 'app')
if previous_app and previous_app ~= ARGV[3] then
  redis.call('SREM', ARGV[6] .. 'app-connections:' .. previous_app, ARGV[2])
end
local version = current + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', tostring(version), unpack(ARGV, 9))
enqueue_outbox(ARGV[6], ARGV[7])
if ARGV[8] ~= '' then
  local expires, token, owner = lease_expiry(redis.call('GET', KEYS[5]))
  if expires and token .. ':' .. owner == ARGV[8] then redis.call('DEL', KEYS[5]) end
end
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
 * JSON ('' = none; see ENQUEUE_OUTBOX_LUA). Answers 1 or 0. The outbox entries (the webhook events of
 * this delete) are enqueued in the same script, only when it deletes.
 */
export const DELETE_CONNECTION = redisScript(
  'innkeeper_delete_connection',
  `${ENQUEUE_OUTBOX_LUA}
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
export const DELETE_APP = redisScript(
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
export const PUT_PENDING = redisScript(
  'innkeeper_put_pending',
  `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
return 1
`,
)

/** KEYS: pending key. Single-use read: GET and DEL in one step (works before Redis 6.2's GETDEL). */
export const TAKE_PENDING = redisScript(
  'innkeeper_take_pending',
  `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`,
)

/**
 * KEYS[1] documents hash; ARGV id, now. Sets `usedAt` on an unused, unexpired document (single use
 * of connect links) and returns it; nil otherwise. The stored JSON is extended, not re-encoded, so
 * its other values keep their exact form.
 */
export const USE_DOCUMENT_ONCE = redisScript(
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
