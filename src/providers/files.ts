// Provider definition files in INNKEEPER_HOME/providers (`innkeeper providers add` copies them
// there): read in name order at start-up and applied to a catalogue.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import type { ProviderCatalogue } from './registry.js'
import { loadProviderValidation } from './validation.js'

export function providersDirectory(home: string): string {
  return join(home, 'providers')
}

/**
 * Loads the schema the folder's files are checked with, when it holds any: a home without
 * provider files never loads zod. Await it before `loadProviderFiles`.
 */
export async function prepareProviderFiles(directory: string): Promise<void> {
  if (providerFiles(directory).length > 0) await loadProviderValidation()
}

/** The `*.json` files of the folder, sorted; none when it does not exist. */
export function providerFiles(directory: string): string[] {
  try {
    return readdirSync(directory)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => join(directory, file))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** Parses one file as JSON; the error names the file (and the position JSON.parse reports). */
export function readProviderFile(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(
      'invalid_config',
      `${file}: could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    )
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ConfigError('invalid_config', `${file}: not valid JSON (${(error as Error).message}).`)
  }
}

/**
 * Applies the folder's files to `catalogue`: corrections of known providers first, then new
 * providers, each after the one it `extends`. The first broken file stops with its name.
 */
export function loadProviderFiles(
  catalogue: ProviderCatalogue,
  directory: string,
  options: { skip?: (file: string) => boolean } = {},
): void {
  const field = (input: unknown, key: 'name' | 'extends') => {
    const value =
      typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : undefined
    return typeof value === 'string' ? value : undefined
  }
  const files = providerFiles(directory)
    .filter((file) => !options.skip?.(file))
    .map((file) => ({ file, input: readProviderFile(file) }))
  const corrections = files.filter(({ input }) => catalogue.find(field(input, 'name') ?? '') !== undefined)
  for (const { file, input } of corrections) catalogue.apply(input, file)
  let pending = files.filter((item) => !corrections.includes(item))
  while (pending.length > 0) {
    const isReady = (input: unknown) => {
      const parent = field(input, 'extends')
      return parent === undefined || catalogue.find(parent) !== undefined
    }
    // None ready: the first one fails with its own message (it extends no known provider).
    const next = pending.find(({ input }) => isReady(input)) ?? pending[0]!
    catalogue.apply(next.input, next.file)
    pending = pending.filter((item) => item !== next)
  }
}
