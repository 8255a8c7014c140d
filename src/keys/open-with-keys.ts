// Opens a store together with its keyring, and never creates a key file for a store that already
// holds sealed data: a missing key file there means the key was lost or the path is wrong, and a
// fresh key would split the store across two keys. Such a store is refused with `key_unavailable`
// naming the key ids it needs; an empty store gets its key file as before.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createKeyring, generateKeyId, type Keyring } from '../crypto/keyring.js'
import { loadKeyring } from '../crypto/load.js'
import { CryptoError } from '../errors.js'
import { openStore } from '../stores/open.js'
import type { Store } from '../stores/store.js'
import { countAllSecretsByKeyId } from './document-secrets.js'

export async function openStoreWithKeys(
  storeUrl: string,
  options: { keys?: string; keyFile?: string },
): Promise<{ store: Store; keyring: Keyring }> {
  const fromVariable = options.keys !== undefined && options.keys.trim() !== ''
  if (!fromVariable && options.keyFile && !existsSync(options.keyFile)) {
    await refuseIfSealed(storeUrl, options.keyFile)
  }
  const keyring = loadKeyring(options)
  return { keyring, store: await openStore(storeUrl, { keyring }) }
}

/** Looks into the store with a throw-away key before a key file is created for it. */
async function refuseIfSealed(storeUrl: string, keyFile: string): Promise<void> {
  const probe = createKeyring([{ id: generateKeyId(), key: randomBytes(32) }])
  const store = await openStore(storeUrl, { keyring: probe })
  let counts: Record<string, number>
  try {
    counts = await countAllSecretsByKeyId(store, probe)
  } finally {
    await store.close()
  }
  const needed = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([id]) => id)
  if (needed.length === 0) return
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0)
  throw new CryptoError(
    'key_unavailable',
    `Key file ${keyFile} does not exist, but the store already holds ${total} secret(s) sealed with key ${needed.map((id) => `'${id}'`).join(', ')}. Innkeeper will not create a new key for it (that would split the store across two keys): restore the key file from your backup, or set INNKEEPER_KEYS='${needed[0]}:<base64 key>'.`,
    { details: { keyIds: needed, path: keyFile } },
  )
}
