// API keys for the JSON API: `ik_<id>_<secret>`, shown once, kept in the store (collection
// `api_keys`) only as a SHA-256 hash. A fast hash is enough because keys carry 256 random bits
// (nothing to brute-force, unlike a password); comparisons of digests run in constant time.
// The verifier keeps the hashes it has read in memory while the store's changes feed is live,
// so a request costs no store read; a key revoked by any process is dropped when the feed says so.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import { ANY_CONNECTION, type ChangesSubscription, type StoreChange } from '../stores/changes.js'
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
  // One-shot `hash`: no Hash object per request (each API call hashes the key it presents).
  return hash('sha256', key, 'buffer')
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

interface StoredKey {
  digest: Buffer
  name: string
}

/** Checks presented keys against the environment's keys and the store's hashes. */
export class ApiKeyVerifier {
  private readonly environment: Array<{ digest: Buffer; id: string }>
  /** Store keys read before, by id: trusted only while the changes feed is live. */
  private readonly known = new Map<string, StoredKey>()
  /** Changes heard that may concern API keys: a read that raced one is not kept. */
  private changesHeard = 0
  private watching: Promise<void> | undefined
  private subscription: ChangesSubscription | undefined
  private closed = false

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
    return (await this.storedKey(id).catch(() => null)) !== null
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
    const stored = await this.storedKey(parsed[1])
    if (!stored || !sameDigest(stored.digest, digest)) return null
    return { id: parsed[1], name: stored.name, source: 'store' }
  }

  /** Stops following the changes feed (the server is closing). */
  async close(): Promise<void> {
    this.closed = true
    this.known.clear()
    await this.watching
    await this.subscription?.close()
    this.subscription = undefined
  }

  /** The stored hash of key `id`: from memory while the feed is live, else read (and kept). */
  private async storedKey(id: string): Promise<StoredKey | null> {
    this.watching ??= this.follow()
    await this.watching
    const live = this.subscription?.live === true
    const cached = live ? this.known.get(id) : undefined
    if (cached) return cached
    const heard = this.changesHeard
    const document = await this.store.getDocument(API_KEYS_COLLECTION, id)
    if (typeof document?.sha256 !== 'string') return null
    const stored = {
      digest: Buffer.from(document.sha256, 'hex'),
      name: typeof document.name === 'string' ? document.name : '',
    }
    if (live && heard === this.changesHeard && !this.closed) this.known.set(id, stored)
    return stored
  }

  /** Without a feed (it failed to start) nothing is kept: every check reads the store. */
  private async follow(): Promise<void> {
    try {
      const subscription = await this.store.watchChanges((change) => this.changed(change))
      if (this.closed) await subscription.close()
      else this.subscription = subscription
    } catch {
      // No feed: `live` stays false.
    }
  }

  private changed({ connection, document }: StoreChange): void {
    const prefix = `${API_KEYS_COLLECTION}/`
    if (connection === ANY_CONNECTION) this.known.clear()
    else if (document?.startsWith(prefix)) this.known.delete(document.slice(prefix.length))
    else return
    this.changesHeard += 1
  }
}

/** `Authorization: Bearer <key>` → the key. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}
