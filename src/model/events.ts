// Events an application can react to: a connection was made, refreshed, lost its grant,
// started failing, or was removed. Payloads are public views, never tokens.
import { EventEmitter } from 'node:events'
import type { ConnectionInfo } from './connection.js'

export interface InnkeeperEventMap {
  connected: [ConnectionInfo]
  refreshed: [ConnectionInfo]
  needs_reauth: [ConnectionInfo]
  /** A refresh failed (transient); it is retried with backoff. */
  error: [ConnectionInfo]
  /** It kept failing for longer than the failure window: marked `error` for good, no more automatic retries. */
  failed: [ConnectionInfo]
  recovered: [ConnectionInfo]
  disconnected: [ConnectionInfo, DisconnectDetails?]
}

export interface DisconnectDetails {
  /** The platform confirmed the grant was revoked. */
  revoked: boolean
}

export type InnkeeperEventName = keyof InnkeeperEventMap

/** A typed EventEmitter; `error` events never throw when nobody listens (unlike Node's default). */
export class InnkeeperEvents extends EventEmitter<InnkeeperEventMap> {
  override emit<K extends InnkeeperEventName>(event: K, ...args: InnkeeperEventMap[K]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false
    return EventEmitter.prototype.emit.call(this, event, ...args)
  }
}
