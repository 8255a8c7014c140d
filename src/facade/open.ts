// How `Innkeeper.open()` finds and opens what it keeps: the home directory, the provider
// definitions (built-ins, `<home>/providers`, then the caller's), and the store with its keys
// (an SQLite file and a key file under INNKEEPER_HOME by default).
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { ensureHome, resolveHome } from '../connections/home.js'
import { DEFAULT_RETRY, failureWindowFrom, type RetryPolicy } from '../connections/refresh-policy.js'
import { createKeyring, type Keyring } from '../crypto/keyring.js'
import { StoreError } from '../errors.js'
import { httpLimitsFrom } from '../http/limits.js'
import { openStoreWithKeys } from '../keys/open-with-keys.js'
import { loadProviderFiles, prepareProviderFiles, providersDirectory } from '../providers/files.js'
import { defaultProviders, type ProviderCatalogue } from '../providers/registry.js'
import { loadProviderValidation } from '../providers/validation.js'
import { type SecretSealer, sealerForStore, UNSEALED } from '../stores/kit/sealing.js'
import { openStore, parseStoreUrl } from '../stores/open.js'
import type { Store } from '../stores/store.js'
import type { InnkeeperOptions } from './options.js'

/** The timing settings of one open Innkeeper, with their defaults applied. */
export interface KeeperTiming {
  now: () => number
  retry: RetryPolicy
  leaseMs: number
  failureWindowMs: number | undefined
}

/** Applies the defaults; a bad failure window, timeout or size limit fails here, before any store opens. */
export function timingFrom(options: InnkeeperOptions): KeeperTiming {
  const timing = {
    now: options.now ?? Date.now,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    leaseMs: options.leaseMs ?? 60_000,
    failureWindowMs: failureWindowFrom(options.failureWindow ?? process.env.INNKEEPER_FAILURE_WINDOW),
  }
  httpLimitsFrom(options)
  return timing
}

export interface OpenedStore {
  store: Store
  /** Seals the secrets kept beside the store's records, with the keyring it was opened with. */
  sealer: SecretSealer
  /** Closed with the Innkeeper (false for a Store the caller opened and passed in). */
  ownsStore: boolean
  /** The home directory (recovery journal); undefined for the empty stand-in of a missing store. */
  home: string | undefined
  /** The provider definitions in use: built-ins, `<home>/providers/*.json`, then `options.providers`. */
  providers: ProviderCatalogue
}

export async function openKeeperStore(options: InnkeeperOptions): Promise<OpenedStore> {
  const where = resolveHome({
    ...options,
    store: typeof options.store === 'string' ? options.store : undefined,
  })
  // Checked before the store opens: a broken definition file stops here, naming file and field.
  const providers = defaultProviders.clone()
  const directory = providersDirectory(where.home)
  await prepareProviderFiles(directory)
  if ((options.providers ?? []).length > 0) await loadProviderValidation()
  loadProviderFiles(providers, directory)
  for (const [index, definition] of (options.providers ?? []).entries()) {
    providers.apply(definition, `providers[${index}] (${String(definition.name)})`)
  }
  if (options.store && typeof options.store !== 'string') {
    const sealer = sealerForStore(options.store.kind, options.keyring)
    return { store: options.store, sealer, ownsStore: false, home: where.home, providers }
  }
  const inMemory = where.storeUrl.startsWith('memory:') && !where.keys
  if (options.create === false && missingSqliteStore(where.storeUrl)) {
    // A store named explicitly must exist; the default one before its first use reads as empty.
    if (options.store !== undefined || process.env.INNKEEPER_STORE !== undefined)
      throw storeNotFound(where.storeUrl)
    const store = await openStore('memory:', { keyring: ephemeralKeyring() })
    return { store, sealer: UNSEALED, ownsStore: true, home: undefined, providers }
  }
  if (!inMemory && (!where.keys || where.storeUrl.startsWith(`sqlite:${where.home}`))) ensureHome(where.home)
  // A key file is created only for a store that holds no sealed data yet.
  const { store, keyring } = inMemory
    ? { store: await openStore(where.storeUrl, { keyring: ephemeralKeyring() }), keyring: undefined }
    : await openStoreWithKeys(where.storeUrl, { keys: where.keys, keyFile: where.keyFile })
  return { store, sealer: sealerForStore(store.kind, keyring), ownsStore: true, home: where.home, providers }
}

/** Nothing is at rest in memory: a key that lives as long as the process is enough there. */
function ephemeralKeyring(): Keyring {
  return createKeyring([{ id: 'memory', key: randomBytes(32) }])
}

/** The path of an SQLite store that does not exist yet; undefined for any other store. */
function missingSqliteStore(storeUrl: string): string | undefined {
  const location = parseStoreUrl(storeUrl)
  return location.kind === 'sqlite' && !existsSync(location.path) ? location.path : undefined
}

function storeNotFound(storeUrl: string): StoreError {
  const path = missingSqliteStore(storeUrl)
  return new StoreError(
    'store_not_found',
    `There is no store at ${path}. Check --store (or INNKEEPER_STORE); a command that writes, such as \`innkeeper apps add\`, creates it.`,
    { details: { path } },
  )
}
