// The PostgreSQL store's handle on its database: the pool, the schema's table names, and the two
// ways every statement runs (alone, or inside one transaction on one pooled client), both turning
// driver errors into StoreErrors. The driver's other files take this handle.

import { createHash } from 'node:crypto'
import type pg from 'pg'
import { StoreError } from '../../errors.js'
import { storeFailure } from './errors.js'
import { quoteIdentifier } from './migrations.js'
import type { PostgresTarget } from './url.js'

// biome-ignore lint/suspicious/noExplicitAny: rows are plain objects whose columns we read by name
type Row = any

/** Runs one statement; `operation` names it in error messages. */
export type PostgresQuery = (
  operation: string,
  sql: string,
  values: unknown[],
) => Promise<pg.QueryResult<Row>>

/** The schema-qualified names of Innkeeper's tables (`"schema".innkeeper_*`). */
export interface PostgresTables {
  apps: string
  connections: string
  pending: string
  leases: string
  documents: string
  audit: string
  outbox: string
  /** The fencing-token sequence as a string literal, for `nextval(…)`. */
  fencingSequence: string
}

/** The database server's time in ms since the epoch, fixed for one statement: the lease clock. */
export const DB_NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint'

/** JSON text for a JSONB parameter (`pg` would send a JS array as a PostgreSQL array). */
export function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value)
}

export class PostgresDatabase {
  readonly tables: PostgresTables
  /** The NOTIFY channel of this schema's changes feed (a plain identifier, under 64 bytes). */
  readonly channel: string
  /** The password-free URL, for messages. */
  readonly display: string
  private closed = false

  constructor(
    private readonly pool: pg.Pool,
    target: PostgresTarget,
  ) {
    this.display = target.display
    this.channel = `innkeeper_changes_${createHash('sha256').update(target.schema).digest('hex').slice(0, 24)}`
    const quoted = quoteIdentifier(target.schema)
    this.tables = {
      apps: `${quoted}.innkeeper_apps`,
      connections: `${quoted}.innkeeper_connections`,
      pending: `${quoted}.innkeeper_pending_authorizations`,
      leases: `${quoted}.innkeeper_leases`,
      documents: `${quoted}.innkeeper_documents`,
      audit: `${quoted}.innkeeper_audit`,
      outbox: `${quoted}.innkeeper_outbox`,
      // The schema name is checked by parsePostgresUrl, so it is safe inside a string literal.
      fencingSequence: `'${quoted}.innkeeper_fencing_tokens'`,
    }
  }

  /** Runs one statement on any pooled client. */
  readonly query: PostgresQuery = async (operation, sql, values) => {
    this.checkOpen()
    try {
      return await this.pool.query(sql, values)
    } catch (error) {
      throw storeFailure(error, `${operation} in ${this.display}`)
    }
  }

  /**
   * Runs one statement of the refresh path as a named prepared statement: each pooled client
   * parses and plans it once, then only binds and runs it (the lease statement's plan was a
   * measurable part of a refresh). Only for fixed statement texts that name their result
   * columns (never `*`), so a column another version's migration adds cannot change the result
   * of a statement already prepared.
   */
  readonly prepared: PostgresQuery = async (operation, sql, values) => {
    this.checkOpen()
    let name = this.statementNames.get(sql)
    if (!name) {
      name = `innkeeper_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`
      this.statementNames.set(sql, name)
    }
    try {
      return await this.pool.query({ name, text: sql, values })
    } catch (error) {
      throw storeFailure(error, `${operation} in ${this.display}`)
    }
  }

  /** The name of each prepared statement text (a handful: see `prepared`). */
  private readonly statementNames = new Map<string, string>()

  /** Runs `work` in one transaction on one pooled client: committed if it returns, rolled back if it throws. */
  async inTransaction<T>(operation: string, work: (query: PostgresQuery) => Promise<T>): Promise<T> {
    this.checkOpen()
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw storeFailure(error, `${operation} in ${this.display}`)
    }
    const query: PostgresQuery = async (step, sql, values) => {
      try {
        return await client.query(sql, values)
      } catch (error) {
        throw storeFailure(error, `${step} in ${this.display}`)
      }
    }
    try {
      await query(operation, 'BEGIN', [])
      const result = await work(query)
      await query(operation, 'COMMIT', [])
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  checkOpen(): void {
    if (this.closed) {
      throw new StoreError('store_unavailable', 'This PostgreSQL store was closed; open a new one.')
    }
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** From now on every call fails with `store_unavailable`; `end` then closes the pool. */
  markClosed(): void {
    this.closed = true
  }

  async end(): Promise<void> {
    await this.pool.end()
  }
}
