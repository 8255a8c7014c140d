// Every rule about connection ids in one place: an id is `<app>/<name>`; app and connection
// names share one alphabet; connections made by a connect link or a platform-side install get
// names of their own (`link-<random>`, `install-<subscription>`, `install-pending-<random>`).
import { randomBytes } from 'node:crypto'
import { ConfigError, InnkeeperError } from '../errors.js'

/** An app name: letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit. */
export const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** A connection name within its app: the same alphabet as app names. */
export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** The name of a connection connected without one. */
export const DEFAULT_CONNECTION_NAME = 'main'

export function connectionId(app: string, name = DEFAULT_CONNECTION_NAME): string {
  return `${app}/${name}`
}

/** The app and name of an id (`acme/main` → acme, main). */
export function splitConnectionId(id: string): { app: string; name: string } {
  const slash = id.indexOf('/')
  return slash < 0 ? { app: id, name: '' } : { app: id.slice(0, slash), name: id.slice(slash + 1) }
}

export function checkName(name: string): string {
  if (!CONNECTION_NAME.test(name)) {
    throw new ConfigError(
      'invalid_config',
      `"${name}" is not a valid connection name: use letters, digits, ".", "_" or "-".`,
    )
  }
  return name
}

/** An id as a person writes it: `acme/main`, or `acme` for its `main` connection. */
export function normaliseConnectionId(id: string): string {
  const [app, name, ...rest] = id.split('/')
  if (!app || rest.length > 0 || name === '') {
    throw new InnkeeperError(
      'unknown_connection',
      `"${id}" is not a connection id: write <app>/<name>, e.g. acme/main.`,
    )
  }
  return connectionId(app, name ?? DEFAULT_CONNECTION_NAME)
}

/** The name a connect link gives a connection when its creator names none. */
export function linkConnectionName(): string {
  return `link-${randomBytes(5).toString('hex')}`
}

/**
 * The names an install started on the platform's side tries, in order: the name asked for or
 * `install-<identity>` while free (an unauthenticated callback never takes over a name), then the
 * same with a random suffix; `install-pending-…` when its identity could not be read.
 */
export function installNameCandidates(
  identity: string | undefined,
  failed: boolean,
  preferredName?: string,
): string[] {
  const fallback = identity ? `install-${identity}` : failed ? 'install-pending' : 'install'
  const first = checkName(preferredName ?? fallback)
  const names: string[] = []
  for (let attempt = 0; attempt < 5; attempt++) {
    const name =
      attempt === 0 && (identity || preferredName) ? first : `${first}-${randomBytes(4).toString('hex')}`
    if (name.length > 64) break
    names.push(name)
  }
  return names
}
