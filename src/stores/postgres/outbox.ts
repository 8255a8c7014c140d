// The webhook outbox of the PostgreSQL store (table `innkeeper_outbox`, migration 4 in
// `migrations.ts`). Claims are one statement that row-locks due heads with `FOR UPDATE SKIP
// LOCKED`, so concurrent dispatchers on many machines pass over each other's entries instead of
// queueing, and sets the claim in the same statement. See `../outbox.ts` for the contract.

import { outboxEntryFromRow } from '../kit/rows.js'
import {
  clipOutboxError,
  type ListOutboxFilter,
  type OutboxEntry,
  type OutboxEntryInput,
  type OutboxStore,
} from '../outbox.js'
import type { PostgresQuery } from './database.js'

export class PostgresOutbox implements OutboxStore {
  constructor(
    /** The store's query helper (turns driver errors into StoreErrors). */
    private readonly query: PostgresQuery,
    /** `"schema".innkeeper_outbox` */
    private readonly table: string,
  ) {}

  async enqueue(entries: OutboxEntryInput[]): Promise<void> {
    if (entries.length === 0) return
    // One statement: the entries of one event are added together, in the order given.
    const values: unknown[] = []
    const rows = entries.map((entry, index) => {
      values.push(
        entry.id,
        entry.eventId,
        entry.receiverId,
        entry.orderingKey,
        entry.body,
        entry.createdAt,
        entry.nextAttemptAt,
      )
      const base = index * 7
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, 'pending', $${base + 6}::bigint, $${base + 7}::bigint)`
    })
    await this.query(
      'enqueue webhook deliveries',
      `INSERT INTO ${this.table} (id, event_id, receiver_id, ordering_key, body, state, created_at, next_attempt_at)
       VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING`,
      values,
    )
  }

  async claim(now: number, limit: number, owner: string, leaseMs: number): Promise<OutboxEntry[]> {
    if (limit <= 0) return []
    const { rows } = await this.query(
      'claim webhook deliveries',
      `WITH due AS (
         SELECT o.seq FROM ${this.table} o
         WHERE o.state = 'pending' AND o.next_attempt_at <= $1
           AND (o.claim_expires_at IS NULL OR o.claim_expires_at <= $1)
           AND NOT EXISTS (
             SELECT 1 FROM ${this.table} p WHERE p.ordering_key = o.ordering_key AND p.state = 'pending' AND p.seq < o.seq
           )
         ORDER BY o.next_attempt_at, o.seq
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.table} o SET claim_owner = $3, claim_expires_at = $1::bigint + $4::bigint
       FROM due WHERE o.seq = due.seq
         AND (o.claim_expires_at IS NULL OR o.claim_expires_at <= $1)
       RETURNING o.*`,
      [now, limit, owner, leaseMs],
    )
    return rows.map(outboxEntryFromRow).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.seq - b.seq)
  }

  async complete(id: string): Promise<boolean> {
    const { rowCount } = await this.query(
      'complete a webhook delivery',
      `DELETE FROM ${this.table} WHERE id = $1`,
      [id],
    )
    return (rowCount ?? 0) > 0
  }

  async fail(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<boolean> {
    const { rowCount } = await this.query(
      'record a failed webhook delivery',
      `UPDATE ${this.table} SET attempts = attempts + 1, last_error = $4, claim_owner = NULL, claim_expires_at = NULL,
         state = CASE WHEN $3::bigint IS NULL THEN 'dead' ELSE 'pending' END,
         next_attempt_at = COALESCE($3::bigint, next_attempt_at)
       WHERE id = $1 AND state = 'pending' AND claim_owner = $2`,
      [id, owner, nextAttemptAt, clipOutboxError(error)],
    )
    return (rowCount ?? 0) > 0
  }

  async list(filter: ListOutboxFilter = {}): Promise<OutboxEntry[]> {
    const { rows } = await this.query(
      'list webhook deliveries',
      `SELECT * FROM ${this.table}
       WHERE ($1::text IS NULL OR receiver_id = $1) AND ($2::text IS NULL OR state = $2)
       ORDER BY seq LIMIT $3`,
      [filter.receiverId ?? null, filter.state ?? null, filter.limit ?? 100],
    )
    return rows.map(outboxEntryFromRow)
  }

  async purge(receiverId: string): Promise<number> {
    const { rowCount } = await this.query(
      'remove webhook deliveries',
      `DELETE FROM ${this.table} WHERE receiver_id = $1`,
      [receiverId],
    )
    return rowCount ?? 0
  }
}
