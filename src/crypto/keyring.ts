// The keyring: AES-256-GCM encryption of every secret at rest, with a key
// id in each ciphertext so keys can be rotated (the first key encrypts, older ones still decrypt).
// Written by hand on node:crypto: AES-GCM is a few calls there, and no library is needed for it.
//
// Sealed format, one compact string:  ik1.<kid>.<iv>.<ciphertext>.<tag>  (base64url parts)
// The associated data is the row id and field name (`connection:acme/main:secrets`) plus the
// `ik1.<kid>` header, so a ciphertext copied to another row or relabelled with another key fails.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { CryptoError } from '../errors.js'
import { randomFromPool } from './random-pool.js'

export const SEALED_VERSION = 'ik1'
export const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

export const GENERATE_KEY_HINT =
  "generate one with `openssl rand -base64 32` or `node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\"`"

export interface KeyEntry {
  id: string
  key: Buffer
}

/**
 * Where a keyring finds newer keys (a key file another process rotated): `changed(force)` answers
 * the keys when they changed since last read, else null. Without `force` it may answer null
 * without looking (a key file is checked at most about once a second).
 */
export interface KeySource {
  changed(force: boolean): KeyEntry[] | null
}

export class Keyring {
  private current: string
  private keys: Map<string, Buffer>
  private source: KeySource | undefined

  /** `entries[0]` is the current key; the others decrypt only. */
  constructor(entries: KeyEntry[]) {
    const { current, keys } = buildKeys(entries)
    this.current = current
    this.keys = keys
  }

  /** The key id new secrets are encrypted with (re-checked against a followed key file). */
  get currentKeyId(): string {
    this.refresh(false)
    return this.current
  }

  /** Replaces every key at once (`entries[0]` becomes current); secrets of dropped keys stop opening. */
  replaceKeys(entries: KeyEntry[]): void {
    const { current, keys } = buildKeys(entries)
    this.current = current
    this.keys = keys
  }

  /**
   * Follows a key file: before encrypting (at most about once a second) and whenever a secret
   * names a key this keyring lacks, changed keys are loaded, so a process started before a key
   * rotation soon encrypts with the new key and opens what others sealed with it.
   */
  followSource(source: KeySource): void {
    this.source = source
  }

  private refresh(force: boolean): void {
    const entries = this.source?.changed(force)
    if (entries) this.replaceKeys(entries)
  }

  /** Every loaded key id, the current one first. */
  keyIds(): string[] {
    return [...this.keys.keys()]
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId)
  }

  /** Encrypts `plaintext` with the current key, bound to `aad` (the row id and field name). */
  encrypt(plaintext: string, aad: string): string {
    const kid = this.currentKeyId
    const key = this.keys.get(kid) as Buffer
    // Fresh random bytes for every seal, from the pooled CSPRNG (never reused).
    const iv = randomFromPool(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(associatedData(kid, aad))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return [SEALED_VERSION, kid, b64(iv), b64(ciphertext), b64(tag)].join('.')
  }

  /** Opens a sealed string written by `encrypt` with the same `aad`; throws CryptoError otherwise. */
  decrypt(sealed: string, aad: string): string {
    const { kid, iv, ciphertext, tag } = parseSealed(sealed, aad)
    if (!this.keys.has(kid)) this.refresh(true)
    const key = this.keys.get(kid)
    if (!key) {
      throw new CryptoError(
        'key_unavailable',
        `The secret at '${aad}' was encrypted with key '${kid}', which is not loaded; add that key to INNKEEPER_KEYS (after the current one) or restore the key file that held it.`,
        { details: { keyId: kid, field: aad } },
      )
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(associatedData(kid, aad))
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
    } catch (cause) {
      throw new CryptoError(
        'decryption_failed',
        `The secret at '${aad}' could not be decrypted with key '${kid}': the key is not the one it was written with, or the stored data was changed or moved from another record. Check INNKEEPER_KEYS or the key file.`,
        { cause, details: { keyId: kid, field: aad } },
      )
    }
  }

  /** The key id a sealed string was encrypted with (for counting records per key during rotation). */
  keyIdOf(sealed: string): string {
    return parseSealed(sealed, 'a stored secret').kid
  }
}

function buildKeys(entries: KeyEntry[]): { current: string; keys: Map<string, Buffer> } {
  const first = entries[0]
  if (!first) throw new CryptoError('key_unavailable', `No encryption key was given; ${GENERATE_KEY_HINT}.`)
  const keys = new Map<string, Buffer>()
  for (const { id, key } of entries) {
    assertKeyId(id)
    if (key.length !== KEY_BYTES) {
      throw new CryptoError(
        'key_unavailable',
        `Key '${id}' is ${key.length} bytes; every key must be exactly ${KEY_BYTES} bytes (base64): ${GENERATE_KEY_HINT}.`,
        { details: { keyId: id } },
      )
    }
    if (keys.has(id)) {
      throw new CryptoError(
        'key_unavailable',
        `Key id '${id}' is given twice; give each key a distinct id.`,
        {
          details: { keyId: id },
        },
      )
    }
    keys.set(id, Buffer.from(key))
  }
  return { current: first.id, keys }
}

/** Builds a keyring from `[id, key]` pairs; the first is current. */
export function createKeyring(entries: KeyEntry[]): Keyring {
  return new Keyring(entries)
}

/** A fresh random 256-bit key, base64. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64')
}

/** A fresh key id: `k` + the date + random hex, e.g. `k20250601-3fa2c1`. */
export function generateKeyId(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  return `k${day}-${randomBytes(3).toString('hex')}`
}

/** Decodes a key given in base64 or base64url. */
export function decodeKey(text: string): Buffer {
  return Buffer.from(text.trim().replaceAll('-', '+').replaceAll('_', '/'), 'base64')
}

export function assertKeyId(id: string): void {
  if (!KEY_ID_PATTERN.test(id)) {
    throw new CryptoError(
      'key_unavailable',
      `Key id '${id.slice(0, 64)}' is not valid; use 1 to 64 letters, digits, '-' or '_'.`,
    )
  }
}

function associatedData(kid: string, aad: string): Buffer {
  return Buffer.from(`${SEALED_VERSION}.${kid}.${aad}`, 'utf8')
}

function parseSealed(
  sealed: string,
  aad: string,
): { kid: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : []
  const [version, kid, iv, ciphertext, tag] = parts
  if (
    parts.length !== 5 ||
    version !== SEALED_VERSION ||
    kid === undefined ||
    !KEY_ID_PATTERN.test(kid) ||
    iv === undefined ||
    ciphertext === undefined ||
    tag === undefined
  ) {
    throw new CryptoError(
      'decryption_failed',
      `The secret at '${aad}' is not in Innkeeper's encrypted format (${SEALED_VERSION}.<key id>.…); the stored data was changed or written by something else.`,
      { details: { field: aad } },
    )
  }
  const ivBytes = Buffer.from(iv, 'base64url')
  const tagBytes = Buffer.from(tag, 'base64url')
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
    throw new CryptoError(
      'decryption_failed',
      `The secret at '${aad}' is damaged (wrong IV or tag length); the stored data was changed.`,
      { details: { keyId: kid, field: aad } },
    )
  }
  return { kid, iv: ivBytes, ciphertext: Buffer.from(ciphertext, 'base64url'), tag: tagBytes }
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url')
}
