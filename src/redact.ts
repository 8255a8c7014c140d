// Redaction used at every boundary that prints: logs, errors, CLI output. Keeps enough of a
// value to recognise it, never enough to use it.

const SECRET_KEYS =
  /^(access_?token|refresh_?token|id_?token|client_?secret|code|code_?verifier|password|authorization|api_?key|secret|token|cookie|set-cookie|x-api-key)$/i

/** `abcdef…(64)`: the first characters and the length, for recognising a value in a log. */
export function fingerprint(value: string): string {
  if (value.length <= 8) return '[redacted]'
  return `${value.slice(0, 4)}…(${value.length})`
}

/** A deep copy of `value` with every field whose name says secret replaced by `[redacted]`. */
export function redact<T>(value: T, depth = 0): T {
  if (depth > 8 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1)) as T
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    out[key] =
      SECRET_KEYS.test(key) && field !== undefined && field !== null ? '[redacted]' : redact(field, depth + 1)
  }
  return out as T
}

/** Removes every known secret string from a text (e.g. a provider's error page echoing a token). */
export function scrub(text: string, secrets: Iterable<string | undefined>): string {
  let out = text
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]')
  }
  return out
}

/** A run of token characters long enough to be a credential (opaque tokens, JWTs, base64 keys). */
const TOKEN_LIKE = /[A-Za-z0-9_~+/=-]*[0-9][A-Za-z0-9_~+/=.-]*/g
const TOKEN_LIKE_MIN = 32

/**
 * Replaces anything shaped like a token (32 or more token characters with a digit among them)
 * by `[redacted]`: a last guard on error text that is stored and shown (`lastError`), in case a
 * provider's answer quoted a credential Innkeeper did not know about.
 */
export function scrubTokenLike(text: string): string {
  return text.replace(TOKEN_LIKE, (run) =>
    run.length >= TOKEN_LIKE_MIN && /[A-Za-z]/.test(run) ? '[redacted]' : run,
  )
}
