// The audit trail of the SQLite store (table `innkeeper_audit`): appended in batches, read
// newest first, counted per time bucket, pruned by age.

import { auditEntryFromRow, type Row } from '../kit/rows.js'
import type { AuditCount, AuditEntry, ListAuditFilter } from '../store.js'
import { sqliteStep } from './errors.js'
import { type Db, inWriteTransaction } from './file.js'
import { auditParams } from './rows.js'
import type { SqliteStatements } from './statements.js'

export class SqliteAuditTrail {
  constructor(
    private readonly db: Db,
    private readonly statements: SqliteStatements,
  ) {}

  append(entries: AuditEntry[]): void {
    // One transaction (one fsync) for the whole batch.
    sqliteStep('append to the audit trail', () =>
      inWriteTransaction(this.db, () => {
        for (const entry of entries) this.statements.insertAudit.run(auditParams(entry))
      }),
    )
  }

  list(filter: ListAuditFilter): AuditEntry[] {
    const rows = sqliteStep(
      'read the audit trail',
      () =>
        this.statements.selectAudit.all({
          connection: filter.connection ?? null,
          since: filter.since ?? null,
          limit: filter.limit ?? 100,
        }) as Row[],
    )
    return rows.map((row) => auditEntryFromRow(row, 'text'))
  }

  count(since: number, bucketMs: number): AuditCount[] {
    const rows = sqliteStep(
      'count the audit trail',
      () =>
        this.statements.countAudit.all({ since, bucket: Math.floor(bucketMs) }) as Array<{
          bucket: number
          action: string
          outcome: AuditEntry['outcome']
          count: number
        }>,
    )
    return rows.map((row) => ({ ...row, bucket: Number(row.bucket), count: Number(row.count) }))
  }

  prune(before: number): number {
    return sqliteStep('prune the audit trail', () => this.statements.pruneAudit.run(before).changes)
  }
}
