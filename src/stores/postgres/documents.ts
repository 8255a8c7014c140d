// Small JSON documents in the PostgreSQL store (table `innkeeper_documents`, JSONB by collection
// and id): API key hashes, webhook receivers, connect links. Never secrets in plaintext. Every
// write NOTIFYs the changes feed in the same statement (a revoked API key ends everywhere).

import { documentChangePayload } from '../changes.js'
import type { PostgresDatabase } from './database.js'

type Document = Record<string, unknown>

export async function putDocument(
  db: PostgresDatabase,
  collection: string,
  id: string,
  value: Document,
): Promise<void> {
  await db.query(
    'save a document',
    `WITH saved AS (
       INSERT INTO ${db.tables.documents} (collection, id, value) VALUES ($1, $2, $3)
       ON CONFLICT (collection, id) DO UPDATE SET value = EXCLUDED.value RETURNING id)
     SELECT pg_notify($4, $5) FROM saved`,
    [collection, id, JSON.stringify(value), db.channel, documentChangePayload(collection, id)],
  )
}

export async function getDocument(
  db: PostgresDatabase,
  collection: string,
  id: string,
): Promise<Document | null> {
  const { rows } = await db.query(
    'read a document',
    `SELECT value FROM ${db.tables.documents} WHERE collection = $1 AND id = $2`,
    [collection, id],
  )
  return rows[0] ? (rows[0].value as Document) : null
}

export async function listDocuments(
  db: PostgresDatabase,
  collection: string,
): Promise<Array<{ id: string; value: Document }>> {
  const { rows } = await db.query(
    'list documents',
    `SELECT id, value FROM ${db.tables.documents} WHERE collection = $1 ORDER BY id`,
    [collection],
  )
  return rows.map((row) => ({ id: String(row.id), value: row.value as Document }))
}

export async function deleteDocument(db: PostgresDatabase, collection: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'delete a document',
    `WITH gone AS (DELETE FROM ${db.tables.documents} WHERE collection = $1 AND id = $2 RETURNING id)
     SELECT pg_notify($3, $4) FROM gone`,
    [collection, id, db.channel, documentChangePayload(collection, id)],
  )
  return (rowCount ?? 0) > 0
}

/** See `Store.useDocumentOnce`. */
export async function useDocumentOnce(
  db: PostgresDatabase,
  collection: string,
  id: string,
  now: number,
): Promise<Document | null> {
  // One conditional UPDATE: the row lock makes a concurrent second caller find `usedAt` set.
  const { rows } = await db.query(
    'use a document',
    `WITH used AS (
       UPDATE ${db.tables.documents} SET value = jsonb_set(value, '{usedAt}', to_jsonb($3::bigint))
       WHERE collection = $1 AND id = $2 AND NOT (value ? 'usedAt')
         AND jsonb_typeof(value -> 'expiresAt') = 'number' AND (value ->> 'expiresAt')::numeric > $3
       RETURNING value)
     SELECT value, pg_notify($4, $5) FROM used`,
    [collection, id, now, db.channel, documentChangePayload(collection, id)],
  )
  return rows[0] ? (rows[0].value as Document) : null
}
