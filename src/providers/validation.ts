// Where the zod schema of provider definitions is reached from code that must not load zod at
// start-up: schema.ts hands its schema over when it is loaded, and `loadProviderValidation()`
// loads it. Anything that checks a user's definition (`ProviderCatalogue.apply`) awaits that
// first, or runs in a process that imported schema.ts (the library's entry point does).
import type { providerDefinitionSchema } from './schema.js'

type Schema = typeof providerDefinitionSchema

let schema: Schema | undefined

export function useProviderSchema(loaded: Schema): void {
  schema = loaded
}

/** Loads the schema (and zod); cheap once loaded. */
export async function loadProviderValidation(): Promise<void> {
  if (!schema) await import('./schema.js')
}

export function providerSchema(): Schema {
  if (!schema) {
    throw new Error(
      'Provider definitions are checked by a schema that is not loaded yet: await loadProviderValidation() first. Please report it.',
    )
  }
  return schema
}
