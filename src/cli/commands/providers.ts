// `innkeeper providers list|show|add|remove`: the provider definitions in use, and the user's own
// in INNKEEPER_HOME/providers: a file corrects a built-in (only the fields it gives) or adds a
// provider, checked by the same schema as the built-ins before it is copied there.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Command } from 'commander'
import { resolveHome } from '../../connections/home.js'
import { ConfigError } from '../../errors.js'
import {
  loadProviderFiles,
  providerFiles,
  providersDirectory,
  readProviderFile,
} from '../../providers/files.js'
import { ProviderCatalogue } from '../../providers/registry.js'
import { loadProviderValidation } from '../../providers/validation.js'
import { out, printJson, printTable, say } from '../output.js'

function directory(): string {
  return providersDirectory(resolveHome().home)
}

/** The built-ins with the home's files applied; a broken file stops with its name and field. */
function effectiveCatalogue(): ProviderCatalogue {
  const catalogue = ProviderCatalogue.builtIn()
  loadProviderFiles(catalogue, directory())
  return catalogue
}

function registerList(providers: Command): void {
  providers
    .command('list')
    .alias('ls')
    .description('list the providers: built-in, corrected by a file of yours, or added by one')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  innkeeper providers list --json')
    .action((options: { json?: boolean }) => {
      const entries = effectiveCatalogue().entries()
      const rows = entries.map(({ definition, source }) => ({
        name: definition.name,
        displayName: definition.displayName,
        aliases: definition.aliases,
        source: source.kind,
        file: source.from ?? null,
      }))
      if (options.json) return printJson(rows)
      printTable(rows, [
        { header: 'name', value: (row) => row.name },
        { header: 'platform', value: (row) => row.displayName },
        { header: 'aliases', value: (row) => row.aliases.join(', ') || '-' },
        { header: 'source', value: (row) => row.source },
        { header: 'file', value: (row) => row.file ?? '-' },
      ])
    })
}

function registerShow(providers: Command): void {
  providers
    .command('show')
    .description('print the definition in effect (built-in plus your corrections) as JSON')
    .argument('<name>', 'provider name or alias')
    .addHelpText('after', '\nExample:\n  innkeeper providers show bookyflow')
    .action((name: string) => {
      printJson(effectiveCatalogue().get(name))
    })
}

function registerAdd(providers: Command): void {
  providers
    .command('add')
    .description('check a provider definition file and copy it to INNKEEPER_HOME/providers')
    .argument('<file>', 'a JSON file: { "name": "bookyflow", …only the fields to change } or a new provider')
    .addHelpText(
      'after',
      `
Example (BookyFlow announces channels at another path on your installation):
  echo '{"name":"bookyflow","postConnect":[{"name":"channel announce","path":"/channels/announce"}]}' > bf.json
  innkeeper providers add bf.json
  innkeeper providers show bookyflow

Fields and merge rules: docs/platforms/README.md.`,
    )
    .action((file: string) => {
      const input = readProviderFile(file)
      const name = (input as { name?: unknown } | null)?.name
      // Checked as start-up will apply it: onto the built-ins and your other files (an earlier
      // file for the same provider is replaced, not corrected again).
      const catalogue = ProviderCatalogue.builtIn()
      loadProviderFiles(catalogue, directory(), { skip: (other) => basename(other, '.json') === name })
      const before = typeof name === 'string' ? catalogue.findEntry(name) : undefined
      if (before && before.definition.name !== name) {
        throw new ConfigError(
          'invalid_config',
          `${file}: name: "${String(name)}" is another name of ${before.definition.name}; use "${before.definition.name}".`,
        )
      }
      const definition = catalogue.apply(input, file)
      const target = join(directory(), `${definition.name}.json`)
      mkdirSync(directory(), { recursive: true, mode: 0o700 })
      writeFileSync(target, `${JSON.stringify(input, null, 2)}\n`, { mode: 0o600 })
      const what = before
        ? `a correction of ${before.source.kind === 'user' ? 'your provider' : 'the built-in'} ${definition.name}`
        : `a new provider ${definition.name}`
      out(`Added ${what}: ${target}`)
      say(`See the definition in effect with \`innkeeper providers show ${definition.name}\`.`)
    })
}

function registerRemove(providers: Command): void {
  providers
    .command('remove')
    .alias('rm')
    .description('remove your file for a provider (a corrected built-in is back to the built-in)')
    .argument('<name>', 'provider name')
    .addHelpText('after', '\nExample:\n  innkeeper providers remove bookyflow')
    .action((name: string) => {
      const file = providerFiles(directory()).find((path) => basename(path, '.json') === name)
      if (!file) {
        throw new ConfigError(
          'unknown_provider',
          `There is no file for "${name}" in ${directory()}. List them with \`innkeeper providers list\`.`,
        )
      }
      rmSync(file)
      out(`Removed ${file}.`)
    })
}

export function registerProviders(program: Command): void {
  const providers = program
    .command('providers')
    .description('the provider definitions: list, show, and correct or add one with a JSON file')
    .addHelpText('after', '\nExample:\n  innkeeper providers list')
    // Every subcommand checks definitions with the schema (zod), loaded only for them.
    .hook('preAction', () => loadProviderValidation())
  registerList(providers)
  registerShow(providers)
  registerAdd(providers)
  registerRemove(providers)
}
