// Provider catalogues: the built-in definitions, plus the ones a user adds or corrects with data
// (`providers/*.json` in INNKEEPER_HOME, `Innkeeper.open({ providers })`). Looked up by name or
// alias; unknown names fail with the list of what is allowed.
import { ConfigError } from '../errors.js'
import { applyProviderOverride, type ProviderOverride } from './overrides.js'
import { builtInProviders } from './platforms.js'
import type { ProviderDefinition } from './schema.js'

/** Where a definition in a catalogue came from. */
export interface ProviderSource {
  /** `built-in`, `user` (a new provider), or `override` (a built-in corrected by the user). */
  kind: 'built-in' | 'user' | 'override'
  /** The file or `code` that added or corrected it; absent for an untouched built-in. */
  from?: string
}

export interface CatalogueEntry {
  definition: ProviderDefinition
  source: ProviderSource
}

export class ProviderCatalogue {
  private readonly byCanonicalName = new Map<string, CatalogueEntry>()
  private readonly byName = new Map<string, string>()

  constructor(entries: Iterable<CatalogueEntry> = []) {
    for (const entry of entries) this.put(entry)
  }

  static builtIn(): ProviderCatalogue {
    return new ProviderCatalogue(
      builtInProviders.map((definition) => ({ definition, source: { kind: 'built-in' } })),
    )
  }

  /** A copy to layer more definitions on without touching this one. */
  clone(): ProviderCatalogue {
    return new ProviderCatalogue(this.byCanonicalName.values())
  }

  /** Adds a definition, replacing any of the same name. */
  register(definition: ProviderDefinition, source: ProviderSource = { kind: 'user', from: 'code' }): void {
    const existing = this.findEntry(definition.name)
    if (existing) this.remove(existing.definition.name)
    this.put({ definition, source })
  }

  /**
   * Applies a user's definition: a partial one named like an existing provider corrects it (only
   * the fields given change), a new name adds a provider. Validation errors name `from` and the field.
   */
  apply(input: ProviderOverride | unknown, from: string): ProviderDefinition {
    const name = typeof input === 'object' && input !== null ? (input as { name?: unknown }).name : undefined
    const base = typeof name === 'string' ? this.findEntry(name) : undefined
    const extendsName =
      typeof input === 'object' && input !== null ? (input as { extends?: unknown }).extends : undefined
    const parent = typeof extendsName === 'string' ? this.findEntry(extendsName) : undefined
    if (typeof extendsName === 'string' && !parent) {
      throw new ConfigError(
        'invalid_config',
        `${from}: extends: there is no provider "${extendsName}" to extend. Use one of: ${this.names().join(', ')}.`,
      )
    }
    const definition = applyProviderOverride(base?.definition ?? parent?.definition, input, from, {
      inherited: !base && Boolean(parent),
    })
    const kind = base && base.source.kind !== 'user' ? 'override' : 'user'
    this.register(definition, { kind, from })
    return definition
  }

  find(name: string): ProviderDefinition | undefined {
    return this.findEntry(name)?.definition
  }

  findEntry(name: string): CatalogueEntry | undefined {
    const canonical = this.byName.get(name.toLowerCase())
    return canonical ? this.byCanonicalName.get(canonical) : undefined
  }

  get(name: string): ProviderDefinition {
    const definition = this.find(name)
    if (!definition) {
      throw new ConfigError(
        'unknown_provider',
        `Unknown provider "${name}". Use one of: ${this.names().join(', ')}.`,
        { details: { provider: name, allowed: this.names() } },
      )
    }
    return definition
  }

  /** Every name a user may type, canonical names and aliases, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort()
  }

  entries(): CatalogueEntry[] {
    return [...this.byCanonicalName.values()].sort((a, b) =>
      a.definition.name.localeCompare(b.definition.name),
    )
  }

  private put(entry: CatalogueEntry): void {
    const { definition } = entry
    this.byCanonicalName.set(definition.name, entry)
    for (const name of [definition.name, ...definition.aliases])
      this.byName.set(name.toLowerCase(), definition.name)
  }

  private remove(canonical: string): void {
    this.byCanonicalName.delete(canonical)
    for (const [name, target] of this.byName) if (target === canonical) this.byName.delete(name)
  }
}

/**
 * The process's catalogue: the built-ins, plus what `registerProvider` adds and, in the CLI, the
 * files in INNKEEPER_HOME/providers. Each `Innkeeper` layers its own on a copy of it.
 */
export const defaultProviders = ProviderCatalogue.builtIn()

/** Adds a definition to the process's catalogue (one made with `defineProvider`). */
export function registerProvider(definition: ProviderDefinition): void {
  defaultProviders.register(definition)
}

/** Every name a user may type, canonical names and aliases, sorted. */
export function listProviders(): string[] {
  return defaultProviders.names()
}

export function findProvider(name: string): ProviderDefinition | undefined {
  return defaultProviders.find(name)
}

export function getProvider(name: string): ProviderDefinition {
  return defaultProviders.get(name)
}
