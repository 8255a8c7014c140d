// The PostgreSQL store URL: postgres://user:password@host:5432/db?schema=innkeeper. `schema`
// (default `public`) is Innkeeper's; every other query parameter (sslmode, …) goes to `pg` as
// usual. Messages only ever show the URL with its password and credential parameters masked.

import { StoreError } from '../../errors.js'
import { parseStoreUrl } from '../kit/parse-url.js'
import { redactUrl } from '../kit/redact-url.js'

/** Where the store lives, parsed from its URL. */
export interface PostgresTarget {
  /** The URL for `pg`, without `schema`. */
  connectionString: string
  schema: string
  /** The URL with the password removed, for messages. */
  display: string
}

/** A plain PostgreSQL identifier: safe to quote and to put inside a string literal. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function parsePostgresUrl(url: string, schemaOverride?: string): PostgresTarget {
  const parsed = parseStoreUrl(url, {
    name: 'PostgreSQL',
    protocols: ['postgres:', 'postgresql:'],
    example: 'postgres://user:password@host:5432/database?schema=innkeeper',
  })
  const schema = schemaOverride ?? parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  const display = redactUrl(parsed)
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      'invalid_config',
      `The schema '${schema.slice(0, 80)}' in ${display} is not a plain PostgreSQL name; use letters, digits and '_' (at most 63, not starting with a digit).`,
    )
  }
  return {
    connectionString: parsed.toString(),
    schema,
    display: `${display}${display.includes('?') ? '&' : '?'}schema=${schema}`,
  }
}
