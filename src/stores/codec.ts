// The record codec shared by every store that writes somewhere (SQLite, PostgreSQL, Redis): turns
// records into public columns plus encrypted secrets and back, so all stores encrypt the same
// fields with the same associated data. Also the StoreErrors every store
// raises the same way.
//
//   ConnectionRecord  tokens + previousRefreshToken -> one sealed blob, AAD `connection:<id>:secrets`
//                     (+ lastUsedAt: not a secret, but the blob is the one place every store keeps
//                     without a column of its own; only the token keeper reads it)
//   AppRecord         clientSecret                  -> sealed,          AAD `app:<name>:client_secret`
//   PendingAuthorization codeVerifier               -> sealed,          AAD `pending:<state>:code_verifier`
//
// Absent optional values are `null` in encoded form (what databases store); decoding turns them
// back into absent properties. Each sealed value's key id is also given as its own field so a
// store can index or count records per key id for key rotation.

import type { Keyring } from '../crypto/keyring.js'
import { CryptoError, StoreError } from '../errors.js'
import type { ConnectionError, StoredConnectionState } from '../model/connection.js'
import type { TokenSet } from '../model/token-set.js'
import type { AppSettings } from '../providers/endpoints.js'
import type { AppRecord, ConnectionRecord, PendingAuthorization } from './store.js'

export function connectionSecretsAad(id: string): string {
  return `connection:${id}:secrets`
}

export function appClientSecretAad(name: string): string {
  return `app:${name}:client_secret`
}

export function pendingCodeVerifierAad(state: string): string {
  return `pending:${state}:code_verifier`
}

export interface EncodedApp {
  name: string
  provider: string
  clientId: string
  /** Sealed client secret (an empty secret is sealed too, so nothing tells it apart at rest). */
  clientSecret: string
  keyId: string
  redirectUri: string | null
  scopes: string[] | null
  settings: AppSettings
  createdAt: number
  updatedAt: number
}

export interface EncodedConnection {
  id: string
  app: string
  name: string
  state: StoredConnectionState
  /** Sealed JSON of `{ tokens, previousRefreshToken, lastUsedAt }`. */
  secrets: string
  keyId: string
  scopes: string[]
  metadata: Record<string, unknown>
  lastError: ConnectionError | null
  failures: number
  refreshDueAt: number | null
  createdAt: number
  updatedAt: number
  lastRefreshAt: number | null
  version: number
}

export interface EncodedPendingAuthorization {
  state: string
  app: string
  name: string
  redirectUri: string
  scopes: string[]
  /** Sealed PKCE verifier, or null when the flow has none. */
  codeVerifier: string | null
  keyId: string | null
  options: Record<string, string>
  createdAt: number
  expiresAt: number
}

interface ConnectionSecrets {
  tokens: TokenSet | null
  previousRefreshToken?: string
  lastUsedAt?: number
}

// Each key id is read from the ciphertext itself, never from `keyring.currentKeyId`: a keyring that
// follows a key file can change its current key between the two calls.
export function encodeApp(keyring: Keyring, app: AppRecord): EncodedApp {
  const clientSecret = keyring.encrypt(app.clientSecret, appClientSecretAad(app.name))
  return {
    name: app.name,
    provider: app.provider,
    clientId: app.clientId,
    clientSecret,
    keyId: keyring.keyIdOf(clientSecret),
    redirectUri: app.redirectUri ?? null,
    scopes: app.scopes ? [...app.scopes] : null,
    settings: structuredClone(app.settings),
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  }
}

export function decodeApp(keyring: Keyring, encoded: EncodedApp): AppRecord {
  const app: AppRecord = {
    name: encoded.name,
    provider: encoded.provider,
    clientId: encoded.clientId,
    clientSecret: keyring.decrypt(encoded.clientSecret, appClientSecretAad(encoded.name)),
    settings: structuredClone(encoded.settings),
    createdAt: Number(encoded.createdAt),
    updatedAt: Number(encoded.updatedAt),
  }
  if (encoded.redirectUri !== null && encoded.redirectUri !== undefined) app.redirectUri = encoded.redirectUri
  if (encoded.scopes !== null && encoded.scopes !== undefined) app.scopes = [...encoded.scopes]
  return app
}

export function encodeConnection(keyring: Keyring, record: ConnectionRecord): EncodedConnection {
  const secrets: ConnectionSecrets = { tokens: record.tokens }
  if (record.previousRefreshToken !== undefined) secrets.previousRefreshToken = record.previousRefreshToken
  if (record.lastUsedAt !== undefined) secrets.lastUsedAt = record.lastUsedAt
  const sealed = keyring.encrypt(JSON.stringify(secrets), connectionSecretsAad(record.id))
  return {
    id: record.id,
    app: record.app,
    name: record.name,
    state: record.state,
    secrets: sealed,
    keyId: keyring.keyIdOf(sealed),
    scopes: [...record.scopes],
    metadata: structuredClone(record.metadata),
    lastError: record.lastError ? { ...record.lastError } : null,
    failures: record.failures,
    refreshDueAt: record.refreshDueAt ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastRefreshAt: record.lastRefreshAt ?? null,
    version: record.version,
  }
}

/**
 * Decodes a stored connection. With `tolerant` (listings), secrets that cannot be opened leave
 * `tokens` null and say why in `unreadable`, so one record under a missing key does not hide the
 * others; everywhere else (refresh, tokens) it throws.
 */
export function decodeConnection(
  keyring: Keyring,
  encoded: EncodedConnection,
  options: { tolerant?: boolean } = {},
): ConnectionRecord {
  const aad = connectionSecretsAad(encoded.id)
  let secrets: ConnectionSecrets
  let unreadable: ConnectionRecord['unreadable']
  try {
    secrets = parseSecrets(keyring.decrypt(encoded.secrets, aad), aad)
  } catch (error) {
    const code = error instanceof CryptoError || error instanceof StoreError ? error.code : undefined
    if (!options.tolerant || (code !== 'key_unavailable' && code !== 'decryption_failed')) throw error
    secrets = { tokens: null }
    unreadable = { code, keyId: sealedKeyId(keyring, encoded.secrets) }
  }
  const record: ConnectionRecord = {
    id: encoded.id,
    app: encoded.app,
    name: encoded.name,
    state: encoded.state,
    tokens: secrets.tokens,
    scopes: [...encoded.scopes],
    metadata: structuredClone(encoded.metadata),
    failures: Number(encoded.failures),
    createdAt: Number(encoded.createdAt),
    updatedAt: Number(encoded.updatedAt),
    version: Number(encoded.version),
  }
  if (unreadable) record.unreadable = unreadable
  if (secrets.previousRefreshToken !== undefined) record.previousRefreshToken = secrets.previousRefreshToken
  if (secrets.lastUsedAt !== undefined) record.lastUsedAt = secrets.lastUsedAt
  if (encoded.lastError !== null && encoded.lastError !== undefined)
    record.lastError = { ...encoded.lastError }
  if (encoded.refreshDueAt !== null && encoded.refreshDueAt !== undefined) {
    record.refreshDueAt = Number(encoded.refreshDueAt)
  }
  if (encoded.lastRefreshAt !== null && encoded.lastRefreshAt !== undefined) {
    record.lastRefreshAt = Number(encoded.lastRefreshAt)
  }
  return record
}

export function encodePendingAuthorization(
  keyring: Keyring,
  pending: PendingAuthorization,
): EncodedPendingAuthorization {
  const hasVerifier = pending.codeVerifier !== undefined
  const codeVerifier = hasVerifier
    ? keyring.encrypt(pending.codeVerifier as string, pendingCodeVerifierAad(pending.state))
    : null
  return {
    state: pending.state,
    app: pending.app,
    name: pending.name,
    redirectUri: pending.redirectUri,
    scopes: [...pending.scopes],
    codeVerifier,
    keyId: codeVerifier === null ? null : keyring.keyIdOf(codeVerifier),
    options: { ...pending.options },
    createdAt: pending.createdAt,
    expiresAt: pending.expiresAt,
  }
}

export function decodePendingAuthorization(
  keyring: Keyring,
  encoded: EncodedPendingAuthorization,
): PendingAuthorization {
  const pending: PendingAuthorization = {
    state: encoded.state,
    app: encoded.app,
    name: encoded.name,
    redirectUri: encoded.redirectUri,
    scopes: [...encoded.scopes],
    options: { ...encoded.options },
    createdAt: Number(encoded.createdAt),
    expiresAt: Number(encoded.expiresAt),
  }
  if (encoded.codeVerifier !== null && encoded.codeVerifier !== undefined) {
    pending.codeVerifier = keyring.decrypt(encoded.codeVerifier, pendingCodeVerifierAad(encoded.state))
  }
  return pending
}

function parseSecrets(json: string, aad: string): ConnectionSecrets {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    parsed = undefined
  }
  const secrets = parsed as Partial<ConnectionSecrets> | undefined
  if (typeof secrets !== 'object' || secrets === null || !('tokens' in secrets)) {
    // No cause: the parse error would quote decrypted text.
    throw new CryptoError(
      'decryption_failed',
      `The decrypted secrets at '${aad}' are not a token set; the record is damaged.`,
      {
        details: { field: aad },
      },
    )
  }
  return {
    tokens: secrets.tokens ?? null,
    ...(secrets.previousRefreshToken === undefined
      ? {}
      : { previousRefreshToken: secrets.previousRefreshToken }),
    ...(typeof secrets.lastUsedAt === 'number' ? { lastUsedAt: secrets.lastUsedAt } : {}),
  }
}

/** A connection or pending authorization names an app that is not stored. */
export function unknownAppError(app: string): StoreError {
  return new StoreError(
    'unknown_app',
    `There is no app named '${app}'; add the app before connecting accounts to it.`,
    {
      details: { app },
    },
  )
}

/** `saveConnection` with an `expectedVersion` found another version stored. */
export function versionConflictError(id: string, expected: number, actual: number): StoreError {
  return new StoreError(
    'conflict',
    `Connection '${id}' changed since it was read (expected version ${expected}, found ${actual === 0 ? 'none' : actual}); read it again and retry.`,
    { details: { connection: id, expectedVersion: expected, actualVersion: actual } },
  )
}

function sealedKeyId(keyring: Keyring, sealed: string): string {
  try {
    return keyring.keyIdOf(sealed)
  } catch {
    return 'unknown'
  }
}
