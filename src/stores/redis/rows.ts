// How records sit in Redis: apps and connections as hashes of the codec's encoded fields (JSON
// text for the structured ones), pending authorizations as one JSON string; and turning them back
// into records with the keyring.

import type { Keyring } from '../../crypto/keyring.js'
import {
  decodeApp,
  decodeConnection,
  decodePendingAuthorization,
  type EncodedApp,
  type EncodedConnection,
  type EncodedPendingAuthorization,
} from '../codec.js'
import type { AppRecord, ConnectionRecord, PendingAuthorization } from '../store.js'

/** Encoded fields held as JSON text in the hashes; the others are plain strings or numbers. */
const JSON_FIELDS = new Set(['scopes', 'settings', 'metadata', 'lastError', 'options'])

/** Field/value pairs for HSET: nulls are left out, JSON fields serialised, the rest as text. */
export function hashFields(encoded: object): string[] {
  const fields: string[] = []
  for (const [field, value] of Object.entries(encoded)) {
    if (value === null || value === undefined) continue
    fields.push(field, JSON_FIELDS.has(field) ? JSON.stringify(value) : String(value))
  }
  return fields
}

/** The encoded record back from a hash; missing fields come back absent (the codec reads them as null). */
function fromHashFields(hash: Record<string, string>): Record<string, unknown> {
  const encoded: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(hash)) {
    encoded[field] = JSON_FIELDS.has(field) ? JSON.parse(value) : value
  }
  return encoded
}

export function appFromHash(keyring: Keyring, hash: Record<string, string>): AppRecord {
  return decodeApp(keyring, fromHashFields(hash) as unknown as EncodedApp)
}

export function connectionFromHash(
  keyring: Keyring,
  hash: Record<string, string>,
  options: { tolerant?: boolean } = {},
): ConnectionRecord {
  return decodeConnection(keyring, fromHashFields(hash) as unknown as EncodedConnection, options)
}

export function pendingFromJson(keyring: Keyring, json: string): PendingAuthorization {
  return decodePendingAuthorization(keyring, JSON.parse(json) as EncodedPendingAuthorization)
}

/** A flat [field, value, …] reply (HGETALL inside a script) as an object. */
export function pairsToObject(pairs: string[]): Record<string, string> {
  const object: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) object[pairs[i]!] = pairs[i + 1]!
  return object
}

export function isEmpty(hash: Record<string, string>): boolean {
  return Object.keys(hash).length === 0
}

/** Code-unit order, as the other stores sort ids and names. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Throws the first error of a MULTI/EXEC reply (null: the transaction was aborted). */
export function checkTransaction(results: Array<[Error | null, unknown]> | null): void {
  if (results === null) throw new Error('The Redis transaction was aborted.')
  for (const [error] of results) if (error) throw error
}
