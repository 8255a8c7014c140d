// Key rotation in the PostgreSQL store: counting secrets by the key that sealed them, and
// re-sealing under the current key, where each swap is one UPDATE that checks the ciphertext
// (and a connection's version) it read; the version stays as it is, since the record did not change.

import type { Keyring } from '../../crypto/keyring.js'
import { type ResealPhase, reencryptInPhases } from '../reseal.js'
import type { ReencryptResult } from '../store.js'
import type { PostgresDatabase } from './database.js'

export async function countSecretsByKeyId(db: PostgresDatabase): Promise<Record<string, number>> {
  const { apps, connections, pending } = db.tables
  const { rows } = await db.query(
    'count secrets by key id',
    `SELECT key_id, count(*) AS count FROM ${apps} GROUP BY key_id
     UNION ALL SELECT key_id, count(*) FROM ${connections} GROUP BY key_id
     UNION ALL SELECT key_id, count(*) FROM ${pending} WHERE code_verifier IS NOT NULL GROUP BY key_id`,
    [],
  )
  const counts: Record<string, number> = {}
  for (const row of rows) counts[String(row.key_id)] = (counts[String(row.key_id)] ?? 0) + Number(row.count)
  return counts
}

export function reencryptSecrets(
  db: PostgresDatabase,
  keyring: Keyring,
  cursor: string | null,
  limit: number,
): Promise<ReencryptResult> {
  const phase = (
    kind: ResealPhase['kind'],
    table: string,
    idColumn: string,
    column: string,
  ): ResealPhase => ({
    kind,
    list: async (after, count, currentKeyId) => {
      if (count <= 0) return []
      const { rows } = await db.query(
        'list secrets to re-encrypt',
        `SELECT ${idColumn} AS id, ${column} AS sealed${kind === 'connection' ? ', version' : ''} FROM ${table}
         WHERE ${column} IS NOT NULL AND key_id <> $1 AND ${idColumn} > $2 ORDER BY ${idColumn} LIMIT $3`,
        [currentKeyId, after, count],
      )
      return rows.map((row) => ({
        id: String(row.id),
        sealed: String(row.sealed),
        ...(row.version === undefined ? {} : { version: Number(row.version) }),
      }))
    },
    swap: async (candidate, resealed, keyId) => {
      const versionCheck = candidate.version === undefined ? '' : ' AND version = $5'
      const { rowCount } = await db.query(
        're-encrypt a secret',
        `UPDATE ${table} SET ${column} = $1, key_id = $2 WHERE ${idColumn} = $3 AND ${column} = $4${versionCheck}`,
        [
          resealed,
          keyId,
          candidate.id,
          candidate.sealed,
          ...(candidate.version === undefined ? [] : [candidate.version]),
        ],
      )
      return (rowCount ?? 0) > 0
    },
  })
  const { apps, connections, pending } = db.tables
  return reencryptInPhases(
    keyring,
    {
      app: phase('app', apps, 'name', 'client_secret'),
      connection: phase('connection', connections, 'id', 'secrets'),
      pending: phase('pending', pending, 'state', 'code_verifier'),
    },
    cursor,
    limit,
  )
}
