// Looks providers up by name or alias; unknown names fail with the list of what is allowed.
import { ConfigError } from '../errors.js'
import { bookingexperts } from './bookingexperts.js'
import { bookingsync } from './bookingsync.js'
import { bookingtime } from './bookingtime.js'
import { bookyflow } from './bookyflow.js'
import { oauth2 } from './oauth2.js'
import type { ProviderDefinition } from './schema.js'

const providers = new Map<string, ProviderDefinition>()

/** Adds a definition (built-ins, or a user's own made with `defineProvider`). */
export function registerProvider(definition: ProviderDefinition): void {
  for (const name of [definition.name, ...definition.aliases]) providers.set(name.toLowerCase(), definition)
}

export const builtInProviders: readonly ProviderDefinition[] = [
  bookingsync,
  bookingexperts,
  bookingtime,
  bookyflow,
  oauth2,
]
for (const definition of builtInProviders) registerProvider(definition)

/** Every name a user may type, canonical names and aliases, sorted. */
export function listProviders(): string[] {
  return [...providers.keys()].sort()
}

export function findProvider(name: string): ProviderDefinition | undefined {
  return providers.get(name.toLowerCase())
}

export function getProvider(name: string): ProviderDefinition {
  const definition = findProvider(name)
  if (!definition) {
    throw new ConfigError(
      'unknown_provider',
      `Unknown provider "${name}". Use one of: ${listProviders().join(', ')}.`,
      { details: { provider: name, allowed: listProviders() } },
    )
  }
  return definition
}
