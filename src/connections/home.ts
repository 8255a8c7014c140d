// Where the embedded defaults live: `INNKEEPER_HOME` (default `~/.innkeeper`) holds the SQLite
// file and the key file; `INNKEEPER_STORE` and `INNKEEPER_KEYS` override them.
import { mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export interface HomeLocations {
  home: string
  storeUrl: string
  keyFile: string
  keys: string | undefined
}

export function resolveHome(
  options: { home?: string; store?: string; keys?: string; keyFile?: string } = {},
  env = process.env,
): HomeLocations {
  const home = resolve(options.home ?? env.INNKEEPER_HOME ?? join(homedir(), '.innkeeper'))
  return {
    home,
    storeUrl: options.store ?? env.INNKEEPER_STORE ?? `sqlite:${join(home, 'innkeeper.db')}`,
    keyFile: options.keyFile ?? env.INNKEEPER_KEY_FILE ?? join(home, 'keys.json'),
    keys: options.keys ?? env.INNKEEPER_KEYS,
  }
}

/** Creates the home directory (0700) when the embedded defaults are about to use it. */
export function ensureHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 })
}
