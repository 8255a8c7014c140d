// What `Innkeeper.open()` accepts, and what `connect()` answers: the facade's public shapes, apart
// from the class so that its parts (opening, webhooks) can share them.

import type { AuthorizationResponse, AuthorizationStart } from '../connections/authorization-flow.js'
import type { RetryPolicy } from '../connections/refresh-policy.js'
import type { Keyring } from '../crypto/keyring.js'
import type { ConnectionInfo } from '../model/connection.js'
import type { ProviderOverride } from '../providers/overrides.js'
import type { ProviderDefinitionInput } from '../providers/schema.js'
import type { Store } from '../stores/store.js'

export interface InnkeeperOptions {
  /** `sqlite:PATH`, `memory:`, `postgres://…`, `redis://…`, or an opened Store. Default: INNKEEPER_STORE or `sqlite:<home>/innkeeper.db`. */
  store?: string | Store
  /**
   * With an opened `store` (other than memory): the keyring it was opened with, which also seals
   * the secrets kept beside its records (webhook signing secrets, the recovery journal).
   */
  keyring?: Keyring
  /** Default: INNKEEPER_HOME or `~/.innkeeper`. */
  home?: string
  /** `kid:base64key,…` (INNKEEPER_KEYS); otherwise a key file in the home directory. */
  keys?: string
  keyFile?: string
  /** The clock, in ms since the epoch (tests drive expiry with it). */
  now?: () => number
  retry?: Partial<RetryPolicy>
  /** How long a refresh lease lasts before another process may take over (default 60 s). */
  leaseMs?: number
  /**
   * How long a connection may fail continuously before it is marked `error` for good (no more
   * automatic retries until a manual refresh): ms, or a duration like `3d`, `12h`. Default
   * INNKEEPER_FAILURE_WINDOW or 3 days.
   */
  failureWindow?: number | string
  /**
   * Who this process is in the audit trail (`cli:<user>`, `worker:<owner>`, …); default `library`.
   * A call can name its own with `runAsActor` (the service does, with the API key's id).
   */
  actor?: string
  /** Record the audit trail in the store (default true). */
  audit?: boolean
  /**
   * Timeout of every request to a platform (API, proxy, post-connect steps; the token and
   * revocation endpoints too when set): ms or a duration like `30s`. Default
   * INNKEEPER_REQUEST_TIMEOUT or 30 s (the token endpoint: 15 s).
   */
  requestTimeoutMs?: number | string
  /**
   * Create the store (an SQLite file and its directory) and the key file when they do not exist
   * (default true). With false, a missing SQLite store is `store_not_found` and nothing is
   * written: for commands that only read.
   */
  create?: boolean
  /** Largest API answer read or streamed, bytes. Default INNKEEPER_MAX_RESPONSE_BYTES or 16 MiB. */
  maxResponseBytes?: number | string
  /**
   * Provider definitions of your own, applied after the built-ins and the files in
   * `<home>/providers`: a partial one named like an existing provider corrects only the fields
   * it gives (`{ name: 'bookyflow', postConnect: [{ name: 'channel announce', path: '/x' }] }`),
   * a new name adds a provider. See docs/platforms/README.md.
   */
  providers?: ReadonlyArray<ProviderOverride | ProviderDefinitionInput>
  /**
   * Let webhook receivers live on private, loopback, link-local or metadata addresses (refused
   * by default, at `webhooks.add` and at every delivery). Default INNKEEPER_ALLOW_PRIVATE_WEBHOOKS
   * (`1`/`true`); `serve --demo` turns it on.
   */
  allowPrivateWebhooks?: boolean
  /**
   * Connection records (with their tokens) kept in memory at most, least recently used dropped
   * first (default 10,000: about 11 MB). Only connections this process asked a token of are kept.
   */
  cachedConnections?: number
}

/** An authorization in progress: visit `url`, then `complete()` with the code or the callback query. */
export interface PendingConnect extends AuthorizationStart {
  kind: 'authorize'
  complete(response: AuthorizationResponse): Promise<ConnectionInfo>
}

/** A connection made at once (client credentials). */
export interface CompletedConnect {
  kind: 'connected'
  connection: ConnectionInfo
  /** Things the caller should know (scopes the provider does not list, sent anyway). */
  warnings: string[]
}
