// What a cloned connection row looks like in the scale benchmarks, kept in one place because
// JavaScript writes it (bulk seeding) and SQL reads it back (the expiry checks): its name, when
// its token was obtained, expires and falls due, and its line of COPY text.

/** Columns of innkeeper_connections in the order copyLine writes them. */
export const COPY_COLUMNS = [
  'id',
  'app',
  'name',
  'state',
  'scopes',
  'metadata',
  'last_error',
  'failures',
  'refresh_due_at',
  'secrets',
  'key_id',
  'created_at',
  'updated_at',
  'last_refresh_at',
  'version',
]

/** The connection name of clone `i`: `<prefix>` and six digits at least (sorts in seeding order). */
export function cloneName(prefix, i) {
  return `${prefix}${String(i).padStart(6, '0')}`
}

/**
 * A fleet's token times: clone i obtained its token at `obtainedFrom + ⌊i·spanMs / n⌋` (spread
 * evenly over `spanMs`), which lives `lifetimeMs` and falls due `marginMs` before it expires.
 */
export function cloneTimes({ n, obtainedFrom, spanMs, lifetimeMs, marginMs }, i) {
  const obtainedAt = obtainedFrom + Math.floor((i * spanMs) / n)
  const expiresAt = obtainedAt + lifetimeMs
  return { obtainedAt, expiresAt, dueAt: expiresAt - marginMs }
}

/** The same expiry as cloneTimes, in SQL, for a row of `innkeeper_connections c` seeded with `prefix`. */
export function cloneExpirySql({ n, obtainedFrom, spanMs, lifetimeMs }, prefix) {
  const number = `substr(c.name, ${prefix.length + 1})::bigint`
  return `(${obtainedFrom}::bigint + (${number} * ${spanMs}::bigint) / ${n} + ${lifetimeMs})`
}

/** One value in COPY's text format: \N for null, JSON for objects, the four specials escaped. */
function field(value) {
  if (value === null || value === undefined) return '\\N'
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c])
    : text
}

/** A codec-encoded connection (dist/stores encodeConnection) as one line of COPY text. */
export function copyLine(encoded) {
  return [
    encoded.id,
    encoded.app,
    encoded.name,
    encoded.state,
    encoded.scopes,
    encoded.metadata,
    encoded.lastError,
    encoded.failures,
    encoded.refreshDueAt,
    encoded.secrets,
    encoded.keyId,
    encoded.createdAt,
    encoded.updatedAt,
    encoded.lastRefreshAt,
    encoded.version,
  ]
    .map(field)
    .join('\t')
}
