// `innkeeper keys status`: how many stored secrets each key id protects, which keys this process
// holds (and which is current), where they come from, and the state of the last rotation.
import type { Keyring } from '../crypto/keyring.js'
import type { Store } from '../stores/store.js'
import { countAllSecretsByKeyId } from './document-secrets.js'
import { type RotationState, readRotationState } from './rotation.js'

export interface KeyStatus {
  currentKeyId: string
  source: 'key_file' | 'environment'
  keyFile?: string
  keys: Array<{ id: string; current: boolean; loaded: boolean; records: number }>
  rotation: RotationState | null
}

export async function keyStatus(store: Store, keyring: Keyring, keyFile?: string): Promise<KeyStatus> {
  const counts = await countAllSecretsByKeyId(store, keyring)
  const current = keyring.currentKeyId
  const ids = [...new Set([...keyring.keyIds(), ...Object.keys(counts)])]
  return {
    currentKeyId: current,
    source: keyFile ? 'key_file' : 'environment',
    ...(keyFile ? { keyFile } : {}),
    keys: ids.map((id) => ({
      id,
      current: id === current,
      loaded: keyring.hasKey(id),
      records: counts[id] ?? 0,
    })),
    rotation: await readRotationState(store),
  }
}
