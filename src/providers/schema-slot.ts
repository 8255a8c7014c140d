// Where schema.ts leaves its zod schema when it is loaded, so validation.ts can reach it without
// schema.ts importing validation.ts back. Typed in validation.ts, the one reader.

let loaded: unknown

export function useProviderSchema(schema: unknown): void {
  loaded = schema
}

export function loadedProviderSchema(): unknown {
  return loaded
}
