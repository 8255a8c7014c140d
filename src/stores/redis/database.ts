// The Redis store's handle on its server: the client, the key layout under the prefix, and the
// ways every command runs — `run` (turning failures into StoreErrors naming the operation),
// `eval` (a Lua script by EVALSHA), `waitForReplicas` (`?wait=N`). The driver's other files take
// this handle. Lua scripts are declared with `redisScript`.

import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { StoreError } from '../../errors.js'
import { redisFailure } from './errors.js'
import type { RedisTarget } from './url.js'

/** A Lua script and its SHA1, for EVALSHA. */
export interface RedisScript {
  name: string
  lua: string
  sha1: string
}

export function redisScript(name: string, lua: string): RedisScript {
  return { name, lua, sha1: createHash('sha1').update(lua).digest('hex') }
}

/** Every key of the store, under its prefix (the Lua scripts build some of them the same way). */
export interface RedisKeys {
  apps: string
  app(name: string): string
  appConnections(app: string): string
  appPending(app: string): string
  connections: string
  connection(id: string): string
  /** Connections by refreshDueAt, only those a worker may claim. */
  due: string
  pending(state: string): string
  lease(key: string): string
  fencing: string
  documents(collection: string): string
  /** The changes feed's channel. */
  changes: string
}

function redisKeys(prefix: string): RedisKeys {
  return {
    apps: `${prefix}apps`,
    app: (name) => `${prefix}app:${name}`,
    appConnections: (app) => `${prefix}app-connections:${app}`,
    appPending: (app) => `${prefix}app-pending:${app}`,
    connections: `${prefix}connections`,
    connection: (id) => `${prefix}connection:${id}`,
    due: `${prefix}due`,
    pending: (state) => `${prefix}pending:${state}`,
    lease: (key) => `${prefix}lease:${key}`,
    fencing: `${prefix}fencing`,
    documents: (collection) => `${prefix}documents:${collection}`,
    changes: `${prefix}changes`,
  }
}

export class RedisDatabase {
  readonly prefix: string
  readonly keys: RedisKeys
  /** The password-free URL and prefix, for messages. */
  readonly display: string
  private closed = false

  constructor(
    readonly client: Redis,
    private readonly target: RedisTarget,
  ) {
    this.prefix = target.prefix
    this.display = target.display
    this.keys = redisKeys(target.prefix)
  }

  /** Runs `action`, turning its failure into a StoreError that names `operation` and the store. */
  async run<T>(operation: string, action: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('store_unavailable', 'This Redis store was closed; open a new one.')
    try {
      return await action()
    } catch (error) {
      throw redisFailure(error, `${operation} in ${this.display}`)
    }
  }

  /** EVALSHA, loading the script on first use (or after a server restart flushed the cache). */
  async eval(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha1, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.client.eval(script.lua, keys.length, ...keys, ...args)
    }
  }

  /**
   * With `?wait=N`, blocks until N replicas acknowledged the writes so far, so a failover right
   * after a refresh cannot lose the new refresh token. Fewer acknowledgements is an error: the
   * write is on the primary, but the caller must not treat it as safely committed.
   */
  async waitForReplicas(operation: string): Promise<void> {
    const { waitReplicas, waitTimeoutMs } = this.target
    if (waitReplicas <= 0) return
    const acknowledged = await this.client.wait(waitReplicas, waitTimeoutMs)
    if (acknowledged < waitReplicas) {
      throw new StoreError(
        'store_unavailable',
        `Could not ${operation} durably in ${this.display}: only ${acknowledged} of ${waitReplicas} replicas acknowledged it within ${waitTimeoutMs} ms. Check the replicas, or lower ?wait= in the store URL.`,
        { details: { acknowledged, required: waitReplicas } },
      )
    }
  }

  /** HGETALL of many keys in one round trip. */
  async hgetallMany(keys: string[]): Promise<Array<Record<string, string>>> {
    if (keys.length === 0) return []
    const pipeline = this.client.pipeline()
    for (const key of keys) pipeline.hgetall(key)
    const results = await pipeline.exec()
    return (results ?? []).map(([error, hash]) => {
      if (error) throw error
      return hash as Record<string, string>
    })
  }

  /** Further calls fail; answers false when it was already closed. */
  markClosed(): boolean {
    if (this.closed) return false
    this.closed = true
    return true
  }
}
