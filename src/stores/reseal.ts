// Re-sealing stored secrets under the keyring's current key (key rotation), shared by the stores
// that encrypt: each store says how to list records sealed by another key and how to swap one
// ciphertext for another atomically; this walks apps, then connections, then pending
// authorizations, in id order, with a resumable cursor `<kind>:<last id>`.

import type { Keyring } from '../crypto/keyring.js'
import { StoreError } from '../errors.js'
import { appClientSecretAad, connectionSecretsAad, pendingCodeVerifierAad } from './codec.js'
import type { ReencryptResult } from './store.js'

export type SealedKind = 'app' | 'connection' | 'pending'

/** A record whose secret is sealed by a key other than the current one. */
export interface ResealCandidate {
  id: string
  sealed: string
  /** Connections only: the version read with `sealed`; the swap requires it unchanged. */
  version?: number
}

export interface ResealPhase {
  kind: SealedKind
  /** Up to `limit` records with id > `after` whose secret is not sealed by `currentKeyId`, by id. */
  list(after: string, limit: number, currentKeyId: string): Promise<ResealCandidate[]>
  /** Writes `resealed` only if the stored secret is still `candidate.sealed`; false otherwise. */
  swap(candidate: ResealCandidate, resealed: string, keyId: string): Promise<boolean>
}

const ORDER: readonly SealedKind[] = ['app', 'connection', 'pending']

const AAD: Record<SealedKind, (id: string) => string> = {
  app: appClientSecretAad,
  connection: connectionSecretsAad,
  pending: pendingCodeVerifierAad,
}

export async function reencryptInPhases(
  keyring: Keyring,
  phases: Record<SealedKind, ResealPhase>,
  cursor: string | null,
  limit: number,
): Promise<ReencryptResult> {
  let { kind, after } = parseCursor(cursor)
  const result: ReencryptResult = { cursor: null, reencrypted: 0, skipped: 0 }
  let visited = 0
  for (let index = ORDER.indexOf(kind); index < ORDER.length; index += 1) {
    kind = ORDER[index]!
    const phase = phases[kind]
    const wanted = limit - visited
    const candidates = await phase.list(after, wanted, keyring.currentKeyId)
    for (const candidate of candidates) {
      const aad = AAD[kind](candidate.id)
      const resealed = keyring.encrypt(keyring.decrypt(candidate.sealed, aad), aad)
      if (await phase.swap(candidate, resealed, keyring.keyIdOf(resealed))) result.reencrypted += 1
      else result.skipped += 1
      after = candidate.id
    }
    visited += candidates.length
    if (candidates.length >= wanted) return { ...result, cursor: `${kind}:${after}` }
    after = ''
  }
  return result
}

function parseCursor(cursor: string | null): { kind: SealedKind; after: string } {
  if (cursor === null || cursor === '') return { kind: 'app', after: '' }
  const colon = cursor.indexOf(':')
  const kind = cursor.slice(0, colon) as SealedKind
  if (colon <= 0 || !ORDER.includes(kind)) {
    throw new StoreError(
      'invalid_config',
      'The key-rotation cursor is not one this store wrote; start the rotation again without it.',
    )
  }
  return { kind, after: cursor.slice(colon + 1) }
}
