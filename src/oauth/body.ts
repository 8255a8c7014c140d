// Reads an HTTP answer's body with a size cap, so a provider (or anything pretending to be one)
// cannot make us buffer an unbounded page, and parses JSON without throwing.

export const MAX_BODY_BYTES = 1024 * 1024

export interface ReadBody {
  text: string
  /** The parsed JSON object, or undefined when the body is not a JSON object. */
  json: Record<string, unknown> | undefined
  truncated: boolean
}

export async function readBody(response: Response, limit = MAX_BODY_BYTES): Promise<ReadBody> {
  if (!response.body) return { text: '', json: undefined, truncated: false }
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      truncated = true
      await reader.cancel().catch(() => {})
      break
    }
    chunks.push(value)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  return { text, json: truncated ? undefined : parseJsonObject(text), truncated }
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
