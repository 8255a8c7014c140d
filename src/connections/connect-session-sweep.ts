// The sweep of expired connect sessions (see connect-sessions.ts): a session and the state
// bindings of the authorizations it started are kept a day past their expiry, so a late visitor
// still reads "expired" or "used", then deleted. Workers (`startRefresher`) and `innkeeper serve`
// run it at start and hourly, so a store where no new link is made still loses them.
// The collections are named here, not in connect-sessions.ts, so the facade loads this file alone.
import type { Store } from '../stores/store.js'
import { PollingLoop } from './polling-loop.js'

export const CONNECT_SESSIONS_COLLECTION = 'connect_sessions'
export const CONNECT_SESSION_STATES_COLLECTION = 'connect_session_states'

/** Used and expired sessions are kept this long (their page says "used"/"expired"), then deleted. */
export const KEPT_AFTER_EXPIRY_MS = 24 * 60 * 60_000

/** How often workers and `serve` sweep. */
const SWEEP_EVERY_MS = 3_600_000

export class ConnectSessionSweep {
  /** The sweep under way, if any: rounds (and direct `sweep()` calls) never overlap. */
  private running: Promise<number> | undefined
  /**
   * A round at start, then one an hour, never keeping the process alive; a store that is down now
   * is swept on a later round.
   */
  private readonly loop = new PollingLoop(() => this.sweep(), Number.POSITIVE_INFINITY, SWEEP_EVERY_MS, {
    background: true,
  })

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** Deletes sessions and state bindings that expired more than a day ago; answers how many. */
  sweep(): Promise<number> {
    this.running ??= this.deleteExpired().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async deleteExpired(): Promise<number> {
    const cutoff = this.now() - KEPT_AFTER_EXPIRY_MS
    let deleted = 0
    for (const collection of [CONNECT_SESSIONS_COLLECTION, CONNECT_SESSION_STATES_COLLECTION]) {
      for (const { id, value } of await this.store.listDocuments(collection)) {
        if (typeof value.expiresAt === 'number' && value.expiresAt < cutoff) {
          if (await this.store.deleteDocument(collection, id)) deleted += 1
        }
      }
    }
    return deleted
  }

  /** Sweeps now and then hourly until `stop` or the keeper's close. */
  start(): void {
    this.loop.start()
  }

  get started(): boolean {
    return this.loop.isRunning
  }

  /** Stops the rounds and waits for one under way, so the store is not closed beneath it. */
  async stop(): Promise<void> {
    await this.loop.stop()
    await this.running?.catch(() => undefined)
  }
}
