// The SQLite store's changes feed. This handle's own writes are announced as they commit; other
// processes' are found by polling `PRAGMA data_version` (it moves when another connection
// commits) and then comparing each connection's version and update time, and each document's
// value, with the last look.

import type Database from 'better-sqlite3'
import { type ChangeListener, ChangesHub, type ChangesSubscription, documentChange } from '../changes.js'
import type { Db } from './file.js'

/** How often the changes feed looks whether another process committed (well within 1 s). */
const SQLITE_CHANGES_POLL_MS = 200

/** What the feed compares: a connection's id, version and update time. */
export interface ConnectionStamp {
  id: string
  version: number
  updated_at: number
}

export class SqliteChangesFeed {
  private timer: NodeJS.Timeout | undefined
  /**
   * Each connection's `version:updated_at` as the feed last saw it, kept up to date by this
   * handle's reads too: a connection read here and changed (or deleted) by another process
   * before the next look is always reported, even one created after the previous look.
   */
  private seen: Map<string, string> | undefined
  /** Each document's value (by `<collection>/<id>`) as the feed last saw it, kept up to date likewise. */
  private documentsSeen: Map<string, string> | undefined

  private readonly hub = new ChangesHub({
    start: async (hub) => {
      let dataVersion = this.db.pragma('data_version', { simple: true }) as number
      this.seen = this.connectionStamps()
      this.documentsSeen = this.documentValues()
      this.timer = setInterval(() => {
        try {
          if (!this.db.open) return
          const now = this.db.pragma('data_version', { simple: true }) as number
          if (now === dataVersion) return
          dataVersion = now
          const current = this.connectionStamps()
          const seen = this.seen ?? new Map<string, string>()
          for (const [id, stamp] of current) if (seen.get(id) !== stamp) hub.emit({ connection: id })
          for (const id of seen.keys()) if (!current.has(id)) hub.emit({ connection: id })
          this.seen = current
          const documents = this.documentValues()
          const seenDocuments = this.documentsSeen ?? new Map<string, string>()
          for (const [key, value] of documents)
            if (seenDocuments.get(key) !== value) hub.emit({ document: key })
          for (const key of seenDocuments.keys()) if (!documents.has(key)) hub.emit({ document: key })
          this.documentsSeen = documents
          hub.setLive(true)
        } catch {
          // The file is busy or gone: say nothing is certain until a look succeeds again.
          hub.setLive(false)
        }
      }, SQLITE_CHANGES_POLL_MS)
      this.timer.unref()
      hub.setLive(true)
    },
    stop: async () => {
      if (this.timer) clearInterval(this.timer)
      this.timer = undefined
      this.seen = undefined
      this.documentsSeen = undefined
    },
  })

  constructor(
    private readonly db: Db,
    /** `SELECT id, version, updated_at` of every connection. */
    private readonly selectStamps: Database.Statement,
    /** `SELECT collection, id, value` of every document. */
    private readonly selectDocuments: Database.Statement,
  ) {}

  subscribe(listener: ChangeListener): Promise<ChangesSubscription> {
    return this.hub.subscribe(listener)
  }

  /** Announces a change this handle committed (`*` for any connection). */
  emit(connection: string): void {
    this.hub.emit({ connection })
  }

  /** Notes a connection as written here, so the next look does not report it again. */
  noteSeen(row: ConnectionStamp): void {
    this.seen?.set(row.id, `${row.version}:${row.updated_at}`)
  }

  /**
   * Notes a connection as read here. A stamp that differs from the one the feed last saw means
   * another process changed it since the last look; that look will now find nothing new, so the
   * change is announced here instead (a cache elsewhere in this process may hold the old record).
   */
  noteRead(row: ConnectionStamp): void {
    const previous = this.seen?.get(row.id)
    this.noteSeen(row)
    if (previous !== undefined && previous !== `${row.version}:${row.updated_at}`) this.emit(row.id)
  }

  /**
   * `noteRead` for a document (`value` undefined: not there); with `written`, a write of this
   * handle, announced whatever the feed saw before.
   */
  noteDocument(collection: string, id: string, value: string | undefined, written = false): void {
    if (!this.documentsSeen) return
    const key = `${collection}/${id}`
    const previous = this.documentsSeen.get(key)
    if (value === undefined) this.documentsSeen.delete(key)
    else this.documentsSeen.set(key, value)
    if (written || previous !== value) this.hub.emit(documentChange(collection, id))
  }

  shutdown(): Promise<void> {
    return this.hub.shutdown()
  }

  private connectionStamps(): Map<string, string> {
    const rows = this.selectStamps.all() as ConnectionStamp[]
    return new Map(rows.map((row) => [row.id, `${row.version}:${row.updated_at}`]))
  }

  private documentValues(): Map<string, string> {
    const rows = this.selectDocuments.all() as Array<{ collection: string; id: string; value: string }>
    return new Map(rows.map((row) => [`${row.collection}/${row.id}`, row.value]))
  }
}
