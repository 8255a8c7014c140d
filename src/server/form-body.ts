// Reading the fields of a posted HTML form (the dashboard's and the connect-link pages'), whose
// body @fastify/formbody hands over as a plain object.

export type FormBody = Record<string, unknown>

/** The request's form body, or an empty one. */
export function formBody(request: { body?: unknown }): FormBody {
  return (request.body ?? {}) as FormBody
}

/** A text field, trimmed; undefined when missing or blank. */
export function field(body: FormBody, name: string): string | undefined {
  const value = body[name]
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/**
 * The pasted API key exactly as sent ('' when missing): not trimmed here, so the library's own
 * check refuses a key with spaces with its own sentence instead of quietly changing it.
 */
export function apiKeyField(body: FormBody): string {
  return typeof body.apiKey === 'string' ? body.apiKey : ''
}
