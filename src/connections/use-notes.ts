// When a connection was last used (`lastUsedAt`: a token of it handed out), noted without a store
// write per token request. A use is noted in the token cache at most once per interval (see
// `useNoting` in refresh-policy.ts) and saved with the connection's next write; where the
// provider's policy reads it (`when-used-within`), the note is saved at once, with the refresh
// due time it brings back or extends, so the background refresher in another process sees it.
import type { KeeperContext, ResolvedApp } from './context.js'
import { isApiKeyConnection } from './credential.js'
import { pendingSteps } from './pending-steps.js'
import type { RecordWriter } from './record-writes.js'
import { nextRefreshDue, USE_NOTE_MIN_MS, useNoting } from './refresh-policy.js'
import type { CachedConnection, TokenCache } from './token-cache.js'

export class UseNotes {
  /** Saves of noted uses under way (awaited on close, so a one-shot command's use is kept). */
  private readonly saving = new Set<Promise<void>>()

  constructor(
    private readonly ctx: KeeperContext,
    private readonly cache: TokenCache,
    private readonly writer: RecordWriter,
  ) {}

  /**
   * A token of `record` was just handed out: costs a subtraction unless a note is due. With
   * `save: false` the caller is about to write the connection anyway (an on-demand refresh),
   * and that write carries the note.
   */
  seen(record: CachedConnection, options: { save?: boolean } = {}): void {
    const now = this.ctx.now()
    if (record.lastUsedAt !== undefined && now - record.lastUsedAt < USE_NOTE_MIN_MS) return
    const app = this.ctx.cachedApp(record.app)
    if (app) {
      this.note(record, app, now, options.save !== false)
      return
    }
    // A token handed out straight from the cache: the app is resolved once, then noted as usual.
    this.track(
      this.ctx.resolveApp(record.app).then(
        (resolved) => this.note(record, resolved, now, options.save !== false),
        () => undefined,
      ),
    )
  }

  /** Waits for the saves under way. */
  async flush(): Promise<void> {
    await Promise.all(this.saving)
  }

  private note(record: CachedConnection, app: ResolvedApp, now: number, save: boolean): void {
    const noting = useNoting(app.provider)
    const last = Math.max(record.lastUsedAt ?? 0, this.cache.lastUsedAt(record.id) ?? 0)
    if (now - last < noting.everyMs) return
    this.cache.noteUse(record, now)
    // An API key is never renewed: nothing to bring forward, its use is saved with its next write.
    if (noting.save && save && !isApiKeyConnection(record)) this.save(record.id, now, app)
  }

  private track(promise: Promise<void>): void {
    const tracked = promise.finally(() => this.saving.delete(tracked))
    this.saving.add(tracked)
  }

  /**
   * Saves the note and the refresh due time it makes (an active connection owing no steps; any
   * other keeps its own). Best effort: a failed save leaves the note in memory for the next write.
   */
  private save(id: string, usedAt: number, app: ResolvedApp): void {
    // The whole record is read first (the cache keeps only what token requests read); the write
    // adds the noted use to it (see `RecordWriter.saveWithRetry`).
    const saving = this.ctx.store
      .getConnection(id)
      .then(async (record) => {
        if (!record) return
        const result = await this.writer.saveWithRetry(
          record,
          (latest) => ({
            ...latest,
            refreshDueAt:
              latest.state === 'active' && pendingSteps(latest).length === 0
                ? nextRefreshDue(latest, app)
                : latest.refreshDueAt,
          }),
          { superseded: (latest) => latest.lastUsedAt !== undefined && latest.lastUsedAt >= usedAt },
        )
        this.writer.remember(result)
      })
      .catch(() => undefined)
    this.track(saving)
  }
}
