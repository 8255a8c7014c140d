// Fills `{app.x}`, `{metadata.x}`, `{options.x}` and `{connection.x}` placeholders in
// provider-definition strings.
// A template whose placeholder has no value yields `undefined`, so an optional header or
// parameter (BookyFlow's channel before announce) is simply left out.

export interface TemplateContext {
  app?: Record<string, unknown>
  metadata?: Record<string, unknown>
  options?: Record<string, unknown>
  /** Facts of the connection itself: `redirectUri`, the one its authorization used. */
  connection?: Record<string, unknown>
}

const PLACEHOLDER = /\{(app|metadata|options|connection)\.([A-Za-z0-9_]+)\}/g

export function fillTemplate(template: string, context: TemplateContext): string | undefined {
  let missing = false
  const out = template.replace(PLACEHOLDER, (_match, scope: keyof TemplateContext, key: string) => {
    const value = context[scope]?.[key]
    if (value === undefined || value === null || value === '') {
      missing = true
      return ''
    }
    return String(value)
  })
  return missing ? undefined : out
}

/** Fills every template of a record, dropping the entries whose placeholders have no value. */
export function fillTemplates(
  templates: Record<string, string>,
  context: TemplateContext,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, template] of Object.entries(templates)) {
    const value = fillTemplate(template, context)
    if (value !== undefined) out[key] = value
  }
  return out
}

/** Fills string leaves of a JSON body (post-connect steps). */
export function fillBody(body: unknown, context: TemplateContext): unknown {
  if (typeof body === 'string') return fillTemplate(body, context)
  if (Array.isArray(body)) return body.map((item) => fillBody(item, context))
  if (body && typeof body === 'object') {
    return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, fillBody(value, context)]))
  }
  return body
}

/** Reads `data.items[].id`-style paths out of a JSON value; `[]` maps over an array. */
export function extractPath(value: unknown, path: string): unknown {
  let current: unknown[] = [value]
  let many = false
  for (const part of path.split('.')) {
    const mapArray = part.endsWith('[]')
    const key = mapArray ? part.slice(0, -2) : part
    current = current.flatMap((item) => {
      const next = item && typeof item === 'object' ? (item as Record<string, unknown>)[key] : undefined
      if (!mapArray) return [next]
      return Array.isArray(next) ? next : []
    })
    if (mapArray) many = true
  }
  const found = current.filter((item) => item !== undefined)
  return many ? found : found[0]
}
