// API keys for the JSON API: `ik_<id>_<secret>`, shown once, kept in the store (collection
// `api_keys`) only as a SHA-256 hash. A fast hash is enough because keys carry 256 random bits
// (nothing to brute-force, unlike a password); comparisons of digests run in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Store } from '../stores/store.js'

export const API_KEYS_COLLECTION = 'api_keys'

export interface ApiKeyRecord {
  id: string
  name: string
  createdAt: number
}

export interface ApiKeyIdentity {
  id: string
  name: string
  source: 'store' | 'environment'
}

const KEY_FORMAT = /^ik_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$/

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest()
}

function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Creates a key, stores its hash, and returns the key: the only time it exists in clear. */
export async function createApiKey(
  store: Store,
  name: string,
  now = Date.now(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  const id = randomBytes(5).toString('hex')
  const key = `ik_${id}_${randomBytes(32).toString('base64url')}`
  const record: ApiKeyRecord = { id, name, createdAt: now }
  await store.putDocument(API_KEYS_COLLECTION, id, {
    name,
    createdAt: now,
    sha256: hashApiKey(key).toString('hex'),
  })
  return { key, record }
}

export async function listApiKeys(store: Store): Promise<ApiKeyRecord[]> {
  const documents = await store.listDocuments(API_KEYS_COLLECTION)
  return documents.map(({ id, value }) => ({
    id,
    name: typeof value.name === 'string' ? value.name : '',
    createdAt: typeof value.createdAt === 'number' ? value.createdAt : 0,
  }))
}

export function revokeApiKey(store: Store, id: string): Promise<boolean> {
  return store.deleteDocument(API_KEYS_COLLECTION, id)
}

/** Checks presented keys against the environment's keys and the store's hashes. */
export class ApiKeyVerifier {
  private readonly environment: Array<{ digest: Buffer; id: string }>

  constructor(
    private readonly store: Store,
    environmentKeys: string[] = [],
  ) {
    this.environment = environmentKeys
      .map((key) => key.trim())
      .filter((key) => key.length > 0)
      .map((key, index) => ({ digest: hashApiKey(key), id: `env-${index + 1}` }))
  }

  /** True when any key could ever match (otherwise the API is closed to everyone). */
  async anyConfigured(): Promise<boolean> {
    if (this.environment.length > 0) return true
    return (await this.store.listDocuments(API_KEYS_COLLECTION).catch(() => [])).length > 0
  }

  /** Whether a key id (from `verify`) still exists: environment keys always, store keys until revoked. */
  async isActive(id: string): Promise<boolean> {
    if (this.environment.some((entry) => entry.id === id)) return true
    return (await this.store.getDocument(API_KEYS_COLLECTION, id).catch(() => null)) !== null
  }

  async verify(presented: string | undefined): Promise<ApiKeyIdentity | null> {
    if (!presented || presented.length > 512) return null
    const digest = hashApiKey(presented)
    // Every environment key is compared, so the time taken does not say which one was close.
    let match: ApiKeyIdentity | null = null
    for (const entry of this.environment) {
      if (sameDigest(entry.digest, digest)) match = { id: entry.id, name: entry.id, source: 'environment' }
    }
    if (match) return match
    const parsed = KEY_FORMAT.exec(presented)
    if (!parsed?.[1]) return null
    const document = await this.store.getDocument(API_KEYS_COLLECTION, parsed[1])
    const stored = typeof document?.sha256 === 'string' ? Buffer.from(document.sha256, 'hex') : undefined
    if (!stored || !sameDigest(stored, digest)) return null
    return { id: parsed[1], name: typeof document?.name === 'string' ? document.name : '', source: 'store' }
  }
}

/** `Authorization: Bearer <key>` → the key. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}
