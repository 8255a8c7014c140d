// Key rotation on the SQLite store: counting stored secrets per key id, and re-sealing them
// under the current key in the shared phases of `../reseal.ts` (apps, connections, pending
// authorizations), each swap a compare-and-set on the sealed value.

import type Database from 'better-sqlite3'
import type { Keyring } from '../../crypto/keyring.js'
import { type ResealPhase, reencryptInPhases, type SealedKind } from '../reseal.js'
import type { ReencryptResult } from '../store.js'
import { sqliteStep } from './errors.js'
import type { SqliteStatements } from './statements.js'

/** How many stored secrets each key id sealed. */
export function countSqliteSecretsByKeyId(statements: SqliteStatements): Record<string, number> {
  const rows = sqliteStep(
    'count secrets by key id',
    () => statements.countByKeyId.all() as Array<{ key_id: string; count: number }>,
  )
  const counts: Record<string, number> = {}
  for (const { key_id, count } of rows) counts[key_id] = (counts[key_id] ?? 0) + count
  return counts
}

export function reencryptSqliteSecrets(
  keyring: Keyring,
  statements: SqliteStatements,
  cursor: string | null,
  limit: number,
): Promise<ReencryptResult> {
  return reencryptInPhases(
    keyring,
    {
      app: phase('app', statements.resealAppsList, statements.resealAppSwap),
      connection: phase('connection', statements.resealConnectionsList, statements.resealConnectionSwap),
      pending: phase('pending', statements.resealPendingList, statements.resealPendingSwap),
    },
    cursor,
    limit,
  )
}

function phase(kind: SealedKind, list: Database.Statement, swap: Database.Statement): ResealPhase {
  return {
    kind,
    list: async (after, count, currentKeyId) =>
      sqliteStep('list secrets to re-encrypt', () =>
        count <= 0
          ? []
          : (list.all(currentKeyId, after, count) as Array<{
              id: string
              sealed: string
              version?: number
            }>),
      ),
    swap: async (candidate, resealed, keyId) =>
      sqliteStep(
        're-encrypt a secret',
        () =>
          swap.run({
            id: candidate.id,
            sealed: candidate.sealed,
            resealed,
            key_id: keyId,
            version: candidate.version ?? 0,
          }).changes > 0,
      ),
  }
}
