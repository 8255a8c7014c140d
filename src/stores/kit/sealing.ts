// Sealing of the secrets the library keeps outside the stores' own records (webhook signing
// secrets in documents, the refresh recovery journal): one sealer, wired by the facade from the
// keyring the store was opened with. The stores' records are sealed by the codec (`../codec.ts`).

import type { Keyring } from '../../crypto/keyring.js'
import { ConfigError } from '../../errors.js'
import type { Store } from '../store.js'

/** Seals a secret bound to `aad`, and opens what it sealed with the same `aad`. */
export interface SecretSealer {
  seal(plaintext: string, aad: string): string
  open(sealed: string, aad: string): string
}

/** Whether a store keeps anything at rest: the memory store does not, so it seals nothing. */
const KEEPS_SECRETS_AT_REST: Record<Store['kind'], boolean> = {
  memory: false,
  sqlite: true,
  postgres: true,
  redis: true,
}

/** Keeps a secret as it is: for the memory store, where nothing is at rest. */
export const UNSEALED: SecretSealer = {
  seal: (plaintext) => plaintext,
  open: (sealed) => sealed,
}

/** Seals with the keyring's current key (AES-256-GCM); opens with any key it holds. */
export function keyringSealer(keyring: Keyring): SecretSealer {
  return {
    seal: (plaintext, aad) => keyring.encrypt(plaintext, aad),
    open: (sealed, aad) => keyring.decrypt(sealed, aad),
  }
}

/**
 * The sealer for secrets kept beside a store of `kind`: the keyring the store was opened with,
 * or nothing for the memory store. A store that keeps secrets at rest needs its keyring.
 */
export function sealerForStore(kind: Store['kind'], keyring: Keyring | undefined): SecretSealer {
  if (!KEEPS_SECRETS_AT_REST[kind]) return UNSEALED
  if (keyring) return keyringSealer(keyring)
  throw new ConfigError(
    'invalid_config',
    `An opened ${kind} store needs the keyring it was opened with: pass \`keyring\` with \`store\` to Innkeeper.open (it seals webhook secrets and the recovery journal).`,
  )
}
