// Opens the store a URL names: `memory:`, `sqlite:PATH` (also `sqlite:///abs/path` or a bare path
// ending in .db/.sqlite/.sqlite3), `postgres://…`/`postgresql://…` and `redis://…`/`rediss://…`.
// PostgreSQL and Redis are loaded on demand so the embedded default never loads their drivers.

import { homedir } from 'node:os'
import { resolve } from 'node:path'
import type { Keyring } from '../crypto/keyring.js'
import { ConfigError } from '../errors.js'
import { openMemoryStore } from './memory.js'
import { openSqliteStore } from './sqlite.js'
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
  if (lower.startsWith('sqlite:')) {
    let path = text.slice('sqlite:'.length)
    // sqlite:///abs/path -> /abs/path; sqlite://relative.db -> relative.db
    if (path.startsWith('//')) path = path.slice(2)
    if (path === '') throw invalidStoreUrl(url, 'it names no file')
    return { kind: 'sqlite', path: expandPath(path) }
  }
  if (/\.(db|sqlite|sqlite3)$/i.test(text) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return { kind: 'sqlite', path: expandPath(text) }
  }
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
      const { openRedisStore } = await import('./redis.js')
      return openRedisStore(location.url, { keyring: options.keyring })
    }
  }
}

function expandPath(path: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2))
  return resolve(path)
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
