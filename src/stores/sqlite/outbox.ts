// The webhook outbox of the SQLite store (table `innkeeper_outbox`). Claims run in one
// `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before reading, so two
// processes on one file never claim the same entry. See `../outbox.ts` for the contract.
import type Database from 'better-sqlite3'
import { outboxEntryFromRow, type Row } from '../kit/rows.js'
import {
  clipOutboxError,
  type ListOutboxFilter,
  type OutboxEntry,
  type OutboxEntryInput,
  type OutboxStore,
} from '../outbox.js'
import { sqliteStep } from './errors.js'
import { inWriteTransaction } from './file.js'

export class SqliteOutbox implements OutboxStore {
  private readonly statements

  constructor(private readonly db: Database.Database) {
    this.statements = {
      insert: db.prepare(`
        INSERT INTO innkeeper_outbox (id, event_id, receiver_id, ordering_key, body, state, created_at, next_attempt_at)
        VALUES (@id, @eventId, @receiverId, @orderingKey, @body, 'pending', @createdAt, @nextAttemptAt)
        ON CONFLICT (id) DO NOTHING`),
      due: db.prepare(`
        SELECT * FROM innkeeper_outbox o
        WHERE o.state = 'pending' AND o.next_attempt_at <= @now
          AND (o.claim_expires_at IS NULL OR o.claim_expires_at <= @now)
          AND NOT EXISTS (
            SELECT 1 FROM innkeeper_outbox p WHERE p.ordering_key = o.ordering_key AND p.state = 'pending' AND p.seq < o.seq
          )
        ORDER BY o.next_attempt_at, o.seq
        LIMIT @limit`),
      claim: db.prepare(
        'UPDATE innkeeper_outbox SET claim_owner = @owner, claim_expires_at = @expiresAt WHERE seq = @seq',
      ),
      complete: db.prepare('DELETE FROM innkeeper_outbox WHERE id = ?'),
      fail: db.prepare(`
        UPDATE innkeeper_outbox SET attempts = attempts + 1, last_error = @error, claim_owner = NULL, claim_expires_at = NULL,
          state = CASE WHEN @next IS NULL THEN 'dead' ELSE 'pending' END,
          next_attempt_at = COALESCE(@next, next_attempt_at)
        WHERE id = @id AND state = 'pending' AND claim_owner = @owner`),
      list: db.prepare(`
        SELECT * FROM innkeeper_outbox
        WHERE (@receiverId IS NULL OR receiver_id = @receiverId) AND (@state IS NULL OR state = @state)
        ORDER BY seq LIMIT @limit`),
      purge: db.prepare('DELETE FROM innkeeper_outbox WHERE receiver_id = ?'),
    }
  }

  /** Inserts entries inside a transaction the caller runs (a connection save and its events). */
  insertInTransaction(entries: OutboxEntryInput[]): void {
    for (const entry of entries) this.statements.insert.run(entry)
  }

  async enqueue(entries: OutboxEntryInput[]): Promise<void> {
    sqliteStep('enqueue webhook deliveries', () =>
      inWriteTransaction(this.db, () => {
        for (const entry of entries) this.statements.insert.run(entry)
      }),
    )
  }

  async claim(now: number, limit: number, owner: string, leaseMs: number): Promise<OutboxEntry[]> {
    if (limit <= 0) return []
    return sqliteStep('claim webhook deliveries', () =>
      inWriteTransaction(this.db, () => {
        const rows = this.statements.due.all({ now, limit }) as Row[]
        for (const row of rows) {
          row.claim_owner = owner
          row.claim_expires_at = now + leaseMs
          this.statements.claim.run({ owner, expiresAt: row.claim_expires_at, seq: row.seq })
        }
        return rows.map(outboxEntryFromRow)
      }),
    )
  }

  async complete(id: string): Promise<boolean> {
    return sqliteStep('complete a webhook delivery', () => this.statements.complete.run(id).changes > 0)
  }

  async fail(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<boolean> {
    return sqliteStep(
      'record a failed webhook delivery',
      () =>
        this.statements.fail.run({ id, owner, next: nextAttemptAt, error: clipOutboxError(error) }).changes >
        0,
    )
  }

  async list(filter: ListOutboxFilter = {}): Promise<OutboxEntry[]> {
    return sqliteStep('list webhook deliveries', () =>
      (
        this.statements.list.all({
          receiverId: filter.receiverId ?? null,
          state: filter.state ?? null,
          limit: filter.limit ?? 100,
        }) as Row[]
      ).map(outboxEntryFromRow),
    )
  }

  async purge(receiverId: string): Promise<number> {
    return sqliteStep('remove webhook deliveries', () => this.statements.purge.run(receiverId).changes)
  }
}
