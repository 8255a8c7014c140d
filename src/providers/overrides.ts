// A user's correction of a provider definition, as data: a partial definition named like an
// existing provider is merged onto it (objects field by field, lists of named items such as
// `postConnect` steps by `name`, other values replaced, `null` removes a field), then the whole
// is checked by the same schema as the built-ins. Errors name the source and the field.
import { ConfigError } from '../errors.js'
import type { ProviderDefinition, ProviderDefinitionInput } from './schema.js'
import { providerSchema } from './validation.js'

type DeepPartial<T> = T extends readonly (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T

/**
 * What a provider file (or `Innkeeper.open({ providers })`) holds: a full definition for a new
 * provider, only the fields to change for an existing one, or a new provider that `extends` one.
 */
export type ProviderOverride = DeepPartial<ProviderDefinitionInput> & { name: string; extends?: string }

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isNamedList = (value: unknown): value is Array<Record<string, unknown> & { name: string }> =>
  Array.isArray(value) && value.every((item) => isObject(item) && typeof item.name === 'string')

function merge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base
  if (patch === null) return undefined
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, unknown> = { ...base }
    for (const [key, value] of Object.entries(patch)) {
      const merged = merge(base[key], value)
      if (merged === undefined) delete out[key]
      else out[key] = merged
    }
    return out
  }
  // An empty list empties it (`"postConnect": []` drops every step).
  if (isNamedList(base) && base.length > 0 && isNamedList(patch) && patch.length > 0) {
    const out = base.map((item) => {
      const change = patch.find((candidate) => candidate.name === item.name)
      return change ? merge(item, change) : item
    })
    for (const item of patch) if (!base.some((existing) => existing.name === item.name)) out.push(item)
    return out
  }
  return patch
}

function describeIssues(from: string, error: { issues: ReadonlyArray<Record<string, unknown>> }): string {
  const lines = error.issues.slice(0, 3).map((issue) => {
    const path = (issue.path as PropertyKey[]).map(String)
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys as string[]
      return `${[...path, keys[0]].join('.')}: not a field of a provider definition${keys.length > 1 ? ` (nor ${keys.slice(1).join(', ')})` : ''}`
    }
    return `${path.join('.') || '(the file)'}: ${String(issue.message)}`
  })
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : ''
  return `${from}: ${lines.join('; ')}${more}. See docs/platforms/README.md for the fields.`
}

/**
 * The definition `input` makes: merged onto `base` when it corrects (or extends) one, on its own
 * otherwise. `inherited`: a new provider that extends `base` does not take its aliases.
 */
export function applyProviderOverride(
  base: ProviderDefinition | undefined,
  input: unknown,
  from: string,
  options: { inherited?: boolean } = {},
): ProviderDefinition {
  if (!isObject(input)) {
    throw new ConfigError('invalid_config', `${from}: a provider definition is a JSON object.`)
  }
  if (typeof input.name !== 'string') {
    throw new ConfigError(
      'invalid_config',
      `${from}: name: required (the provider to correct, e.g. "bookyflow", or a new one).`,
    )
  }
  const { extends: _extends, ...patch } = input
  let candidate: unknown = patch
  if (base) {
    const start = options.inherited ? { ...base, aliases: [] } : base
    candidate = merge(start, patch)
  }
  const parsed = providerSchema().safeParse(candidate)
  if (!parsed.success) {
    throw new ConfigError(
      'invalid_config',
      describeIssues(from, parsed.error as unknown as { issues: Array<Record<string, unknown>> }),
    )
  }
  return parsed.data
}
