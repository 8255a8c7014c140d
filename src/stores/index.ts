// Public entry of the stores part: the Store interface and records, the shared codec, and the
// embedded stores. PostgreSQL and Redis are reached through `openStore` (loaded on demand).
export * from './codec.js'
export { MemoryStore, openMemoryStore } from './memory/store.js'
export {
  type OpenStoreOptions,
  openStore,
  parseStoreUrl,
  STORE_URL_FORMS,
  type StoreLocation,
} from './open.js'
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/store.js'
export * from './store.js'
