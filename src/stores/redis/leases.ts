// Leases and the refresh claim of the Redis store: Lua scripts judged by the Redis server's
// clock (`TIME`, read inside the script), never a caller's, so a worker whose clock is off by
// minutes can never take a lease that is still held; fencing tokens come from one INCR counter.
// Lease values are `<fencing token>:<expires at>:<owner>` (owner last: it may contain ':').

import type { Keyring } from '../../crypto/keyring.js'
import { type ClaimedConnection, type Lease, type LeasedConnection, refreshLeaseKey } from '../store.js'
import { type RedisDatabase, redisScript } from './database.js'
import { connectionFromHash, pairsToObject } from './rows.js'

/**
 * How long a lease key outlives its lease. Expiry is judged by the Redis server's clock inside
 * the scripts; the key's PX only cleans up abandoned keys.
 */
const LEASE_GC_MARGIN_MS = 60_000

/**
 * Shared Lua helpers: the server's time in ms, parse a lease value, and write one. Scripts that
 * read `TIME` and then write need effects replication: the default since Redis 5, asked for on
 * older servers.
 */
export const LEASE_HELPERS = `
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
 * KEYS: lease key, fencing counter. ARGV: owner, ttl ms, gc ms.
 * Answers {token, expiresAt} or nil when someone holds a lease unexpired by the server's clock.
 */
const ACQUIRE_LEASE = redisScript(
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

/**
 * KEYS: connection hash, refresh lease key, fencing counter. ARGV: owner, ttl ms, gc ms.
 * Answers {} when the connection does not exist, {hash pairs} when someone holds the lease
 * unexpired by the server's clock, else {hash pairs, token, expiresAt}: lease and read at once.
 */
const LEASE_CONNECTION = redisScript(
  'innkeeper_lease_connection',
  `${LEASE_HELPERS}
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then return {} end
local now = server_now()
local expires = lease_expiry(redis.call('GET', KEYS[2]))
if expires and expires > now then return {hash} end
local token = redis.call('INCR', KEYS[3])
local expires_at = write_lease(KEYS[2], token, now + tonumber(ARGV[2]), ARGV[1], ARGV[3])
return {hash, tostring(token), expires_at}
`,
)

/** KEYS: lease key. ARGV: owner, fencing token, ttl ms, gc ms. Answers 1 when renewed. */
const RENEW_LEASE = redisScript(
  'innkeeper_renew_lease',
  `${LEASE_HELPERS}
local expires, token, owner = lease_expiry(redis.call('GET', KEYS[1]))
if not expires or token ~= ARGV[2] or owner ~= ARGV[1] then return 0 end
write_lease(KEYS[1], token, server_now() + tonumber(ARGV[3]), ARGV[1], ARGV[4])
return 1
`,
)

/** KEYS: lease key. Answers the lease value while it is unexpired by the server's clock, else nil. */
const GET_LEASE = redisScript(
  'innkeeper_get_lease',
  `${LEASE_HELPERS}
local value = redis.call('GET', KEYS[1])
local expires = lease_expiry(value)
if not expires or expires <= server_now() then return nil end
return value
`,
)

/** KEYS: lease key. ARGV: owner, fencing token. Answers 1 when released. */
const RELEASE_LEASE = redisScript(
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
const CLAIM_DUE = redisScript(
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

// The lease methods' `now` is not used: the server's clock judges (leaseClock `server`).

export async function acquireLease(
  db: RedisDatabase,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<Lease | null> {
  const granted = (await db.run('acquire a lease', () =>
    db.eval(
      ACQUIRE_LEASE,
      [db.keys.lease(key), db.keys.fencing],
      [owner, String(ttlMs), String(ttlMs + LEASE_GC_MARGIN_MS)],
    ),
  )) as [string, string] | null
  if (!granted) return null
  return { key, owner, fencingToken: Number(granted[0]), expiresAt: Number(granted[1]) }
}

/** See `Store.leaseConnection`. */
export async function leaseConnection(
  db: RedisDatabase,
  keyring: Keyring,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<LeasedConnection> {
  const key = refreshLeaseKey(id)
  const answer = (await db.run('lease a connection', () =>
    db.eval(
      LEASE_CONNECTION,
      [db.keys.connection(id), db.keys.lease(key), db.keys.fencing],
      [owner, String(ttlMs), String(ttlMs + LEASE_GC_MARGIN_MS)],
    ),
  )) as [string[]?, string?, string?]
  const [pairs, token, expiresAt] = answer
  if (!pairs) return { lease: null, record: null }
  const record = connectionFromHash(keyring, pairsToObject(pairs))
  if (token === undefined) return { lease: null, record }
  return { lease: { key, owner, fencingToken: Number(token), expiresAt: Number(expiresAt) }, record }
}

export async function renewLease(db: RedisDatabase, lease: Lease, ttlMs: number): Promise<boolean> {
  const renewed = await db.run('renew a lease', () =>
    db.eval(
      RENEW_LEASE,
      [db.keys.lease(lease.key)],
      [lease.owner, String(lease.fencingToken), String(ttlMs), String(ttlMs + LEASE_GC_MARGIN_MS)],
    ),
  )
  return renewed === 1
}

export async function releaseLease(db: RedisDatabase, lease: Lease): Promise<boolean> {
  const released = await db.run('release a lease', () =>
    db.eval(RELEASE_LEASE, [db.keys.lease(lease.key)], [lease.owner, String(lease.fencingToken)]),
  )
  return released === 1
}

export async function getLease(db: RedisDatabase, key: string): Promise<Lease | null> {
  const value = (await db.run('read a lease', () => db.eval(GET_LEASE, [db.keys.lease(key)], []))) as
    | string
    | null
  const match = value === null ? null : /^(\d+):(-?\d+):(.*)$/s.exec(value)
  if (!match) return null
  const expiresAt = Number(match[2])
  return { key, owner: match[3] ?? '', fencingToken: Number(match[1]), expiresAt }
}

export async function claimDueConnections(
  db: RedisDatabase,
  keyring: Keyring,
  now: number,
  limit: number,
  owner: string,
  leaseMs: number,
): Promise<ClaimedConnection[]> {
  if (limit <= 0) return []
  const claimed = (await db.run('claim due connections', () =>
    db.eval(
      CLAIM_DUE,
      [db.keys.due, db.keys.fencing],
      [
        String(now),
        String(limit),
        owner,
        String(leaseMs),
        String(leaseMs + LEASE_GC_MARGIN_MS),
        db.prefix,
        refreshLeaseKey(''),
      ],
    ),
  )) as Array<[string, string, string, string[]]>
  // Tolerant: one record this process cannot open comes back marked `unreadable` (see the Store).
  return claimed.map(([id, token, expiresAt, fields]) => ({
    connection: connectionFromHash(keyring, pairsToObject(fields), { tolerant: true }),
    lease: { key: refreshLeaseKey(id), owner, fencingToken: Number(token), expiresAt: Number(expiresAt) },
  }))
}
