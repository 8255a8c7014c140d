// Where the keyring comes from: `INNKEEPER_KEYS` (`kid:base64key,kid2:base64key`, the first one
// current), or else a key file created on first use with mode 0600 in a 0700 directory. A key file
// that other users can read is refused rather than silently used.

import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CryptoError } from '../errors.js'
import { writePrivateFile } from '../private-file.js'
import {
  assertKeyId,
  decodeKey,
  GENERATE_KEY_HINT,
  generateKey,
  generateKeyId,
  type KeyEntry,
  Keyring,
  type KeySource,
} from './keyring.js'

export interface LoadKeyringOptions {
  /** The `INNKEEPER_KEYS` value; wins over `keyFile` when non-empty. */
  keys?: string
  /** Path of the key file to use (and create on first use) when `keys` is not given. */
  keyFile?: string
}

/** The JSON stored in a key file. */
export interface KeyFileContents {
  version: 1
  /** Id of the key new secrets are encrypted with. */
  current: string
  /** Every key by id, base64. */
  keys: Record<string, string>
}

/**
 * Loads the keyring: from `keys` (`INNKEEPER_KEYS`) when given, otherwise from `keyFile`,
 * creating it with one fresh key if it does not exist. Synchronous, for use at start-up.
 */
export function loadKeyring(options: LoadKeyringOptions): Keyring {
  if (options.keys !== undefined && options.keys.trim() !== '')
    return new Keyring(parseKeysVariable(options.keys))
  if (options.keyFile) {
    const keyring = new Keyring(readOrCreateKeyFile(options.keyFile))
    keyring.followSource(new KeyFileSource(options.keyFile))
    return keyring
  }
  throw new CryptoError(
    'key_unavailable',
    `No encryption key is configured; set INNKEEPER_KEYS to 'kid:base64key' (${GENERATE_KEY_HINT}) or give a key file path.`,
  )
}

/** Parses `kid:base64key,kid2:base64key`; the first entry is current. */
export function parseKeysVariable(value: string): KeyEntry[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':')
    if (colon <= 0) {
      throw new CryptoError(
        'key_unavailable',
        `INNKEEPER_KEYS entry ${index + 1} is not 'kid:base64key'; write each key as its id, a colon and 32 bytes of base64, separated by commas.`,
      )
    }
    const id = entry.slice(0, colon).trim()
    assertKeyId(id)
    return { id, key: decodeKey(entry.slice(colon + 1)) }
  })
}

/** How often (at most) a followed key file is checked for changes before encrypting. */
const KEY_FILE_CHECK_MS = 1_000

/** Watches one key file by its inode, size and modification time (a rotation replaces the file). */
class KeyFileSource implements KeySource {
  private signature: string
  private checkedAt = Date.now()

  constructor(private readonly path: string) {
    this.signature = fileSignature(path)
  }

  changed(force: boolean): KeyEntry[] | null {
    const now = Date.now()
    if (!force && now - this.checkedAt < KEY_FILE_CHECK_MS) return null
    this.checkedAt = now
    const signature = fileSignature(this.path)
    if (signature === this.signature) return null
    try {
      const entries = readKeyFileIfPresent(this.path)
      if (!entries) return null
      this.signature = signature
      return entries
    } catch {
      // Half-written or unreadable for a moment: keep the keys already loaded and look again later.
      return null
    }
  }
}

function fileSignature(path: string): string {
  try {
    const stat = statSync(path)
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`
  } catch {
    return 'missing'
  }
}

/** The key file's keys, current first (for `keys rotate`); null when it does not exist. */
export function readKeyFileEntries(path: string): KeyEntry[] | null {
  return readKeyFileIfPresent(path)
}

/** The key file's contents (for `keys rotate`); null when it does not exist. */
export function readKeyFile(path: string): KeyFileContents | null {
  const entries = readKeyFileIfPresent(path)
  if (!entries) return null
  const [current] = entries
  return {
    version: 1,
    current: current!.id,
    keys: Object.fromEntries(entries.map(({ id, key }) => [id, key.toString('base64')])),
  }
}

/**
 * Replaces the key file atomically (a private temp file renamed over it, mode 0600), so processes
 * that follow it never see half a file.
 */
export function writeKeyFile(path: string, contents: KeyFileContents): void {
  keyFileEntries(path, contents)
  try {
    writePrivateFile(path, `${JSON.stringify(contents, null, 2)}\n`)
  } catch (error) {
    throw keyFileError(path, 'could not be written', error)
  }
}

/** Adds a fresh key to the key file and makes it current; answers its id. */
export function addCurrentKeyToFile(path: string): string {
  const contents = readKeyFile(path)
  if (!contents) throw keyFileError(path, 'does not exist')
  let id = generateKeyId()
  while (contents.keys[id] !== undefined) id = generateKeyId()
  writeKeyFile(path, { version: 1, current: id, keys: { ...contents.keys, [id]: generateKey() } })
  return id
}

/** Removes keys from the key file (never the current one); answers the ids removed. */
export function removeKeysFromFile(path: string, ids: string[]): string[] {
  const contents = readKeyFile(path)
  if (!contents) throw keyFileError(path, 'does not exist')
  const removed = ids.filter((id) => id !== contents.current && contents.keys[id] !== undefined)
  if (removed.length === 0) return []
  const keys = { ...contents.keys }
  for (const id of removed) delete keys[id]
  writeKeyFile(path, { version: 1, current: contents.current, keys })
  return removed
}

function readOrCreateKeyFile(path: string): KeyEntry[] {
  const existing = readKeyFileIfPresent(path)
  if (existing) return existing
  createKeyFile(path)
  return readKeyFileIfPresent(path) ?? []
}

function readKeyFileIfPresent(path: string): KeyEntry[] | null {
  let mode: number
  try {
    mode = statSync(path).mode
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw keyFileError(path, 'could not be read', error)
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CryptoError(
      'key_unavailable',
      `Key file ${path} can be read or changed by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` and try again.`,
      { details: { path } },
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    // No cause attached: a JSON parse error quotes the file's text, which holds keys.
    throw keyFileError(path, 'is not valid JSON')
  }
  return keyFileEntries(path, parsed)
}

function keyFileEntries(path: string, parsed: unknown): KeyEntry[] {
  const contents = parsed as Partial<KeyFileContents> | null
  const keys = contents?.keys
  const current = contents?.current
  if (
    typeof keys !== 'object' ||
    keys === null ||
    typeof current !== 'string' ||
    typeof keys[current] !== 'string'
  ) {
    throw keyFileError(path, `must hold {"version":1,"current":"<kid>","keys":{"<kid>":"<base64>"}}`)
  }
  const ids = [current, ...Object.keys(keys).filter((id) => id !== current)]
  return ids.map((id) => {
    const key = keys[id]
    if (typeof key !== 'string') throw keyFileError(path, `has a key '${id}' that is not a base64 string`)
    return { id, key: decodeKey(key) }
  })
}

/** Creates the key file atomically: written to a private temp file, then linked into place, so two
 * processes starting at once end up sharing one key (the loser of the race reads the winner's). */
function createKeyFile(path: string): void {
  const directory = dirname(path)
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw keyFileError(path, 'could not be created (its directory could not be made)', error)
  }
  const id = generateKeyId()
  const contents: KeyFileContents = { version: 1, current: id, keys: { [id]: generateKey() } }
  try {
    // The loser of a race between two processes reads the winner's key.
    writePrivateFile(path, `${JSON.stringify(contents, null, 2)}\n`, { mode: 'create' })
  } catch (error) {
    throw keyFileError(path, 'could not be created', error)
  }
}

function keyFileError(path: string, problem: string, cause?: unknown): CryptoError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code
  return new CryptoError(
    'key_unavailable',
    `Key file ${path} ${problem}${reason ? ` (${reason})` : ''}; fix or remove it, or set INNKEEPER_KEYS instead.`,
    { cause, details: { path } },
  )
}
