// The audit trail in the PostgreSQL store (table `innkeeper_audit`): appended in one multi-row
// INSERT per batch, read newest first, counted per time bucket by the database, pruned by age.

import { auditEntryFromRow } from '../kit/rows.js'
import type { AuditCount, AuditEntry, ListAuditFilter } from '../store.js'
import { json, type PostgresDatabase } from './database.js'

export async function appendAudit(db: PostgresDatabase, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  const values: unknown[] = []
  const rows = entries.map((entry, index) => {
    values.push(
      entry.id,
      entry.at,
      entry.actor,
      entry.action,
      entry.connection ?? null,
      entry.outcome,
      json(entry.detail),
    )
    const base = index * 7
    return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7})`
  })
  await db.query(
    'append to the audit trail',
    `INSERT INTO ${db.tables.audit} (id, at, actor, action, connection, outcome, detail) VALUES ${rows.join(', ')}`,
    values,
  )
}

export async function listAudit(db: PostgresDatabase, filter: ListAuditFilter): Promise<AuditEntry[]> {
  const { rows } = await db.query(
    'read the audit trail',
    `SELECT * FROM ${db.tables.audit}
     WHERE ($1::text IS NULL OR connection = $1) AND ($2::bigint IS NULL OR at >= $2)
     ORDER BY at DESC, id DESC LIMIT $3`,
    [filter.connection ?? null, filter.since ?? null, filter.limit ?? 100],
  )
  return rows.map((row) => auditEntryFromRow(row, 'parsed'))
}

export async function countAudit(
  db: PostgresDatabase,
  since: number,
  bucketMs: number,
): Promise<AuditCount[]> {
  const { rows } = await db.query(
    'count the audit trail',
    `SELECT (at / $2::bigint) * $2::bigint AS bucket, action, outcome, count(*) AS count
     FROM ${db.tables.audit} WHERE at >= $1 GROUP BY 1, 2, 3`,
    [since, Math.floor(bucketMs)],
  )
  return rows.map((row) => ({
    bucket: Number(row.bucket),
    action: String(row.action),
    outcome: row.outcome,
    count: Number(row.count),
  }))
}

export async function pruneAudit(db: PostgresDatabase, before: number): Promise<number> {
  const { rowCount } = await db.query(
    'prune the audit trail',
    `DELETE FROM ${db.tables.audit} WHERE at < $1`,
    [before],
  )
  return rowCount ?? 0
}
