// Where the zod schema of provider definitions is reached from code that must not load zod at
// start-up: schema.ts hands its schema over (schema-slot.ts) when it is loaded, and `loadProviderValidation()`
// loads it. Anything that checks a user's definition (`ProviderCatalogue.apply`) awaits that
// first, or runs in a process that imported schema.ts (the library's entry point does).
import type { providerDefinitionSchema } from './schema.js'
import { loadedProviderSchema } from './schema-slot.js'

type Schema = typeof providerDefinitionSchema

/** Loads the schema (and zod); cheap once loaded. */
export async function loadProviderValidation(): Promise<void> {
  if (!loadedProviderSchema()) await import('./schema.js')
}

export function providerSchema(): Schema {
  const schema = loadedProviderSchema() as Schema | undefined
  if (!schema) {
    throw new Error(
      'Provider definitions are checked by a schema that is not loaded yet: await loadProviderValidation() first. Please report it.',
    )
  }
  return schema
}
