// Opens the store a URL names: `memory:`, `sqlite:PATH` (also `sqlite:///abs/path` or a bare path
// ending in .db/.sqlite/.sqlite3), `postgres://…`/`postgresql://…` and `redis://…`/`rediss://…`.
// PostgreSQL and Redis are loaded on demand so the embedded default never loads their drivers.

import type { Keyring } from '../crypto/keyring.js'
import { ConfigError } from '../errors.js'
import { openMemoryStore } from './memory/store.js'
import { openSqliteStore } from './sqlite/store.js'
import { sqlitePathFromUrl } from './sqlite/url.js'
import type { Store } from './store.js'

export interface OpenStoreOptions {
  keyring: Keyring
}

export const STORE_URL_FORMS = [
  'memory:',
  'sqlite:PATH (e.g. sqlite:./innkeeper.db or sqlite:///var/lib/innkeeper/innkeeper.db)',
  'a path ending in .db',
  'postgres://user:password@host:5432/database',
  'redis://host:6379/0 (or rediss:// for TLS)',
] as const

export type StoreLocation =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'redis'; url: string }

/** Works out which store a URL names, without opening it. */
export function parseStoreUrl(url: string): StoreLocation {
  const text = url.trim()
  const lower = text.toLowerCase()
  if (lower === 'memory:' || lower === 'memory://' || lower === 'memory') return { kind: 'memory' }
  if (lower.startsWith('postgres://') || lower.startsWith('postgresql://'))
    return { kind: 'postgres', url: text }
  if (lower.startsWith('redis://') || lower.startsWith('rediss://')) return { kind: 'redis', url: text }
  const path = sqlitePathFromUrl(text)
  if (path === '') throw invalidStoreUrl(url, 'it names no file')
  if (path !== undefined) return { kind: 'sqlite', path }
  throw invalidStoreUrl(url, 'its scheme is not one Innkeeper knows')
}

/** Opens the store `url` names, encrypting secrets with `options.keyring`. */
export async function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  const location = parseStoreUrl(url)
  switch (location.kind) {
    case 'memory':
      return openMemoryStore()
    case 'sqlite':
      return openSqliteStore(location.path, { keyring: options.keyring })
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/store.js')
      return openPostgresStore(location.url, { keyring: options.keyring })
    }
    case 'redis': {
      const { openRedisStore } = await import('./redis/store.js')
      return openRedisStore(location.url, { keyring: options.keyring })
    }
  }
}

function invalidStoreUrl(url: string, problem: string): ConfigError {
  // Only the scheme is echoed: a database URL can carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1]
  return new ConfigError(
    'invalid_config',
    `The store ${scheme ? `URL with scheme '${scheme}:'` : 'location'} cannot be used: ${problem}. Use one of: ${STORE_URL_FORMS.join('; ')}.`,
    { details: { allowed: [...STORE_URL_FORMS] } },
  )
}
