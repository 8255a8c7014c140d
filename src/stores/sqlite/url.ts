// Which store URLs name a SQLite file, and which file: `sqlite:PATH`, `sqlite:///abs/path`,
// `sqlite://relative.db`, `~/…` for the home directory, or a bare path ending in .db, .sqlite or
// .sqlite3. Relative paths resolve against the working directory.

import { homedir } from 'node:os'
import { resolve } from 'node:path'

/**
 * The absolute path of the file `url` names; `''` when it starts with `sqlite:` but names no
 * file; undefined when it is not a SQLite URL at all.
 */
export function sqlitePathFromUrl(url: string): string | undefined {
  const text = url.trim()
  if (text.toLowerCase().startsWith('sqlite:')) {
    let path = text.slice('sqlite:'.length)
    // sqlite:///abs/path -> /abs/path; sqlite://relative.db -> relative.db
    if (path.startsWith('//')) path = path.slice(2)
    return path === '' ? '' : expandPath(path)
  }
  if (/\.(db|sqlite|sqlite3)$/i.test(text) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return expandPath(text)
  return undefined
}

function expandPath(path: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2))
  return resolve(path)
}
