// Whether the Redis server keeps what it acknowledges across a restart: the store's durability
// warning from its persistence settings (append-only file, snapshots, or none). Durability across
// a restart is the server's job: see docs/stores.md (appendonly).

import type { Redis } from 'ioredis'
import type { RedisDatabase } from './database.js'

/** A sentence to warn with unless the server uses the append-only file. */
export async function durabilityWarning(db: RedisDatabase): Promise<string | undefined> {
  const persistence = await db.run('check persistence', () => redisPersistence(db.client))
  const where = db.display
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
