// Connect options as CLI flags, generated from the provider definitions' `connectOptions`
// (bookingtime's `--organization`, BookyFlow's `--channel`): no flag is written per platform.
import { type Command, Option } from 'commander'
import { ConfigError } from '../errors.js'
import { defaultProviders } from '../providers/registry.js'
import type { ConnectOption, ProviderDefinition } from '../providers/schema.js'

interface FlagSource {
  option: ConnectOption
  providers: ProviderDefinition[]
}

function flagSources(): Map<string, FlagSource> {
  const sources = new Map<string, FlagSource>()
  // The process's catalogue: built-ins plus INNKEEPER_HOME/providers (loaded before commands are built).
  for (const { definition: provider } of defaultProviders.entries()) {
    for (const option of provider.connectOptions) {
      const source = sources.get(option.flag) ?? { option, providers: [] }
      source.providers.push(provider)
      sources.set(option.flag, source)
    }
  }
  return sources
}

/** Adds one `--<flag> <value>` per connect option any provider declares. */
export function addConnectOptionFlags(command: Command): Command {
  for (const [flag, source] of flagSources()) {
    const who = source.providers.map((provider) => provider.displayName).join(', ')
    command.addOption(new Option(`--${flag} <value>`, `${who}: ${source.option.description}`))
  }
  return command
}

/** The connect options given on the command line, keyed by the library's option names. */
export function readConnectOptions(command: Command, provider: ProviderDefinition): Record<string, string> {
  const values: Record<string, string> = {}
  for (const [flag, source] of flagSources()) {
    const attribute = new Option(`--${flag} <value>`).attributeName()
    const value = command.getOptionValue(attribute) as string | undefined
    if (value === undefined) continue
    const own = provider.connectOptions.find((option) => option.flag === flag)
    if (!own) {
      const for_ = source.providers.map((p) => p.displayName).join(', ')
      throw new ConfigError(
        'invalid_config',
        `--${flag} is for ${for_} apps; ${provider.displayName} apps do not take it.`,
      )
    }
    values[own.name] = value
  }
  return values
}
