// Events an application can react to: a connection was made, refreshed, lost its grant,
// started failing, or was removed, and a token was handed out. Payloads are public views, never
// tokens.
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
  /**
   * The background refresher claimed a connection whose secrets this process cannot open (state
   * `key_unavailable`; `lastError` names the key it needs) and skipped it. Told once per process.
   */
  unreadable: [ConnectionInfo, UnreadableDetails]
  disconnected: [ConnectionInfo, DisconnectDetails?]
  /** `connection.token()` handed a token out (or failed to): the audit trail's `token.issued`. */
  token_issued: [TokenIssued]
}

export interface TokenIssued {
  /** The connection id, `<app>/<name>`. */
  connection: string
  outcome: 'ok' | 'failed'
  /** The error code when it failed. */
  code?: string
  /** Who asked, when the caller named them (else the surrounding or the process's actor). */
  actor?: string
}

export interface UnreadableDetails {
  /** `key_unavailable`: sealed with a key this process lacks; `decryption_failed`: damaged or wrong key. */
  code: 'key_unavailable' | 'decryption_failed'
  /** The key id its secrets are sealed with (the key to restore). */
  keyId: string
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
