// The store's changes feed: every committed change to a connection (saved, deleted, or deleted
// with its app) or to a document (an API key created or revoked, a session), by any process
// sharing the store, reaches every subscriber within about a second. Each driver feeds it its own way (PostgreSQL LISTEN/NOTIFY sent in the writing
// statement, Redis PUBLISH inside the writing script, SQLite `PRAGMA data_version` polling,
// the memory store in process). Caches of connection records (TokenKeeper) drop an entry when
// it changes, and trust nothing while the feed is down; callers waiting for another process's
// refresh are woken by it (TokenKeeper.waitForChange); the API-key check drops a revoked key.

/**
 * One change: a connection id (`*` when anything, documents included, may have changed: the feed
 * restarted, an app was deleted), or a document as `<collection>/<id>`.
 */
export type StoreChange = { connection: string; document?: never } | { document: string; connection?: never }

export const ANY_CONNECTION = '*'

/**
 * A document change on the wire (a NOTIFY or PUBLISH payload) starts with `#`; a connection id
 * never does (an app name starts with a letter or a digit).
 */
const DOCUMENT_MARK = '#'

export function documentChange(collection: string, id: string): StoreChange {
  return { document: `${collection}/${id}` }
}

export function documentChangePayload(collection: string, id: string): string {
  return `${DOCUMENT_MARK}${collection}/${id}`
}

/** A NOTIFY or PUBLISH payload back into a change (empty: anything may have changed). */
export function changeFromPayload(payload: string): StoreChange {
  if (payload.startsWith(DOCUMENT_MARK)) return { document: payload.slice(DOCUMENT_MARK.length) }
  return { connection: payload || ANY_CONNECTION }
}

export type ChangeListener = (change: StoreChange) => void

export interface ChangesSubscription {
  /** False while the feed is down (a change may be missed then): caches must not be trusted. */
  readonly live: boolean
  close(): Promise<void>
}

/** How a driver runs its feed: started with the first subscriber, stopped after the last. */
export interface ChangesSource {
  start(hub: ChangesHub): Promise<void>
  stop(): Promise<void>
}

/** Subscribers and liveness of one store handle's feed; drivers call `emit` and `setLive`. */
export class ChangesHub {
  private readonly listeners = new Set<ChangeListener>()
  private starting: Promise<void> | undefined
  private liveNow = false

  constructor(private readonly source: ChangesSource) {}

  get live(): boolean {
    return this.liveNow
  }

  /** Resolves once the feed is running: every change committed after that is delivered. */
  async subscribe(listener: ChangeListener): Promise<ChangesSubscription> {
    this.starting ??= this.source.start(this).catch((error: unknown) => {
      this.starting = undefined
      throw error
    })
    await this.starting
    this.listeners.add(listener)
    const hub = this
    let closed = false
    return {
      get live() {
        return !closed && hub.liveNow
      },
      async close() {
        if (closed) return
        closed = true
        hub.listeners.delete(listener)
        if (hub.listeners.size === 0 && hub.starting) {
          hub.starting = undefined
          hub.liveNow = false
          await hub.source.stop()
        }
      },
    }
  }

  emit(change: StoreChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change)
      } catch {
        // A subscriber's failure is its own; the others still hear of the change.
      }
    }
  }

  /** The feed went down or came back: either way, anything may have changed meanwhile. */
  setLive(live: boolean): void {
    if (this.liveNow === live) return
    this.liveNow = live
    this.emit({ connection: ANY_CONNECTION })
  }

  /** Stops the feed whatever subscribers remain (the store is closing). */
  async shutdown(): Promise<void> {
    if (!this.starting) return
    this.starting = undefined
    this.listeners.clear()
    this.liveNow = false
    await this.source.stop().catch(() => undefined)
  }
}

/** A feed that lives in this process (the memory store, and a store's own writes). */
export function inProcessSource(): ChangesSource {
  return {
    async start(hub) {
      hub.setLive(true)
    },
    async stop() {},
  }
}
