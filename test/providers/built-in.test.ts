// The built-in definitions are filled in without zod at start-up (src/providers/built-in.ts);
// here the schema checks each one and must find nothing to add or change, so a default that
// built-in.ts misses, or a field out of shape, fails here rather than in a user's process.
import { describe, expect, it } from 'vitest'
import { builtInProviders } from '../../src/providers/platforms.js'
import { providerDefinitionSchema } from '../../src/providers/schema.js'

describe('built-in provider definitions', () => {
  for (const definition of builtInProviders) {
    it(`${definition.name}: the schema accepts it and adds no default`, () => {
      const parsed = providerDefinitionSchema.safeParse(definition)
      expect(parsed.error?.issues ?? []).toEqual([])
      expect(definition).toStrictEqual(parsed.data)
    })
  }
})
