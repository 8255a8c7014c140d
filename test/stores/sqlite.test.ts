// The SQLite store: the shared conformance suite (with encryption at rest checked on the file's raw
// bytes, WAL included), plus what only a file shared by processes can show: migrations on reopen,
// file modes, and two OS processes contending for leases and claims on one file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyring, generateKey } from '../../src/crypto/keyring.js'
import { openSqliteStore } from '../../src/stores/sqlite.js'
import { runStoreConformance } from './conformance.js'

const keyring = createKeyring([{ id: 'k1', key: Buffer.from(generateKey(), 'base64') }])

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'innkeeper-sqlite-'))
}

function rawFileBytes(path: string): Buffer {
  const parts = [path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file))
  return Buffer.concat(parts)
}

runStoreConformance('sqlite', async () => {
  const directory = temporaryDirectory()
  const path = join(directory, 'innkeeper.db')
  const store = await openSqliteStore(path, { keyring })
  return {
    store,
    rawBytes: async () => rawFileBytes(path),
    cleanup: async () => rmSync(directory, { recursive: true, force: true }),
  }
})
