// Secrets kept sealed inside store documents (webhook receivers' signing secrets). The stores'
// own re-encryption covers apps, connections and pending authorizations only, so these are
// counted per key id and re-sealed here; without them `keys rotate --retire` could remove a key
// that still opens a webhook secret.
import type { Keyring } from '../crypto/keyring.js'
import type { Store } from '../stores/store.js'
import { WEBHOOKS_COLLECTION, webhookSecretAad } from '../webhooks/receivers.js'

interface SealedDocumentField {
  collection: string
  field: string
  aad(id: string): string
}

const SEALED_DOCUMENT_FIELDS: readonly SealedDocumentField[] = [
  { collection: WEBHOOKS_COLLECTION, field: 'secret', aad: webhookSecretAad },
]

/** Every stored secret per key id: the store's records plus the sealed document fields. */
export async function countAllSecretsByKeyId(
  store: Store,
  keyring: Keyring,
): Promise<Record<string, number>> {
  const counts = { ...(await store.countSecretsByKeyId()) }
  for (const { collection, field } of SEALED_DOCUMENT_FIELDS) {
    for (const { value } of await store.listDocuments(collection)) {
      const sealed = value[field]
      if (typeof sealed !== 'string') continue
      const keyId = keyring.keyIdOf(sealed)
      counts[keyId] = (counts[keyId] ?? 0) + 1
    }
  }
  return counts
}

/** Re-seals every sealed document field not yet under the current key; answers how many. */
export async function resealDocumentSecrets(store: Store, keyring: Keyring): Promise<number> {
  let resealed = 0
  for (const { collection, field, aad } of SEALED_DOCUMENT_FIELDS) {
    for (const { id, value } of await store.listDocuments(collection)) {
      const sealed = value[field]
      if (typeof sealed !== 'string' || keyring.keyIdOf(sealed) === keyring.currentKeyId) continue
      const plaintext = keyring.decrypt(sealed, aad(id))
      await store.putDocument(collection, id, { ...value, [field]: keyring.encrypt(plaintext, aad(id)) })
      resealed += 1
    }
  }
  return resealed
}
