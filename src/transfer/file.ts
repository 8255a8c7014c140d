// The export file: apps (with client secrets) and connections (with tokens) as JSON, encrypted
// with AES-256-GCM under a key derived from a passphrase by scrypt (node:crypto has both; no
// library needed). A readable header says what the file is (format version, KDF parameters,
// creation time, counts) and is bound to the ciphertext as associated data, so it cannot be
// edited without the file failing to open.
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto'
import { promisify } from 'node:util'
import { CryptoError, InnkeeperError } from '../errors.js'
import type { AppRecord, ConnectionRecord } from '../stores/store.js'

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>

export const EXPORT_FORMAT = 'innkeeper-export'
export const EXPORT_VERSION = 1
/** scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB of memory per derivation, about 0.1 s. */
const DEFAULT_KDF = { N: 32_768, r: 8, p: 1 }

export interface ExportPayload {
  apps: AppRecord[]
  connections: ConnectionRecord[]
}

export interface ExportHeader {
  format: typeof EXPORT_FORMAT
  version: number
  createdAt: string
  counts: { apps: number; connections: number }
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string }
  cipher: { name: 'aes-256-gcm'; iv: string }
}

export interface ExportFile extends ExportHeader {
  ciphertext: string
  tag: string
}

/** Encrypts `payload` under `passphrase`; answers the file's text. */
export async function sealExport(payload: ExportPayload, passphrase: string, now: number): Promise<string> {
  assertPassphrase(passphrase)
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    createdAt: new Date(now).toISOString(),
    counts: { apps: payload.apps.length, connections: payload.connections.length },
    kdf: { name: 'scrypt', ...DEFAULT_KDF, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64') },
  }
  const key = await deriveKey(passphrase, header.kdf)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(headerBytes(header))
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()])
  const file: ExportFile = {
    ...header,
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  }
  return `${JSON.stringify(file, null, 2)}\n`
}

/** The header of an export file's text, without decrypting it. */
export function readExportHeader(text: string): ExportFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const file = parsed as Partial<ExportFile> | undefined
  if (!file || file.format !== EXPORT_FORMAT) {
    throw new InnkeeperError(
      'invalid_config',
      'This is not an Innkeeper export file (made by `innkeeper export`).',
    )
  }
  if (file.version !== EXPORT_VERSION) {
    throw new InnkeeperError(
      'invalid_config',
      `This export file has format version ${String(file.version)}; this Innkeeper reads version ${EXPORT_VERSION}. Use the Innkeeper that wrote it, or a newer one.`,
    )
  }
  if (file.kdf?.name !== 'scrypt' || file.cipher?.name !== 'aes-256-gcm' || !file.ciphertext || !file.tag) {
    throw new InnkeeperError('invalid_config', 'This export file is incomplete or damaged.')
  }
  assertKdf(file.kdf, file.cipher)
  return file as ExportFile
}

/** Decrypts an export file's text; a wrong passphrase or an edited file is `decryption_failed`. */
export async function openExport(
  text: string,
  passphrase: string,
): Promise<{ header: ExportHeader; payload: ExportPayload }> {
  const file = readExportHeader(text)
  const header: ExportHeader = {
    format: file.format,
    version: file.version,
    createdAt: file.createdAt,
    counts: file.counts,
    kdf: file.kdf,
    cipher: file.cipher,
  }
  const key = await deriveKey(passphrase, header.kdf)
  let json: string
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.cipher.iv, 'base64'))
    decipher.setAAD(headerBytes(header))
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'))
    json = Buffer.concat([
      decipher.update(Buffer.from(file.ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    // No cause: nothing about the failure helps, and it must not hint at the plaintext.
    throw new CryptoError(
      'decryption_failed',
      'The export file could not be opened: the passphrase is wrong, or the file was changed after it was written.',
    )
  }
  const payload = JSON.parse(json) as ExportPayload
  return { header, payload }
}

function headerBytes(header: ExportHeader): Buffer {
  // A fixed field order, so the same header always gives the same bytes.
  const { format, version, createdAt, counts, kdf, cipher } = header
  return Buffer.from(
    JSON.stringify({
      format,
      version,
      createdAt,
      counts: { apps: counts.apps, connections: counts.connections },
      kdf: { name: kdf.name, N: kdf.N, r: kdf.r, p: kdf.p, salt: kdf.salt },
      cipher: { name: cipher.name, iv: cipher.iv },
    }),
    'utf8',
  )
}

/**
 * The scrypt parameters an import accepts: exactly what `sealExport` writes, except that N may be
 * one power of two either side of it (2^14..2^16, at most 64 MiB). A file is checked before any
 * key is derived, so an edited header cannot make the importer spend minutes and gigabytes.
 */
const ACCEPTED_N = new Set([2 ** 14, 2 ** 15, 2 ** 16])
const SALT_BYTES = 16
const IV_BYTES = 12

function assertKdf(kdf: ExportHeader['kdf'], cipher: ExportHeader['cipher']): void {
  const saltOk = typeof kdf.salt === 'string' && Buffer.from(kdf.salt, 'base64').length === SALT_BYTES
  const ivOk = typeof cipher.iv === 'string' && Buffer.from(cipher.iv, 'base64').length === IV_BYTES
  if (!ACCEPTED_N.has(kdf.N) || kdf.r !== DEFAULT_KDF.r || kdf.p !== DEFAULT_KDF.p || !saltOk || !ivOk) {
    throw new InnkeeperError(
      'invalid_config',
      `This export file asks for key-derivation parameters Innkeeper never writes (scrypt N=${String(kdf.N)}, r=${String(kdf.r)}, p=${String(kdf.p)}); it was edited or damaged. Export it again with \`innkeeper export\`.`,
    )
  }
}

async function deriveKey(passphrase: string, kdf: ExportHeader['kdf']): Promise<Buffer> {
  return scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r + 1024 * 1024,
  })
}

function assertPassphrase(passphrase: string): void {
  if (passphrase.length < 8) {
    throw new InnkeeperError(
      'invalid_config',
      'The passphrase must be at least 8 characters; give a long one on standard input.',
    )
  }
}
