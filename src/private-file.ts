// Files only their owner may read (key files, exports), written so that no reader ever sees half
// a file and no other user ever sees it at all: a 0600 temp file beside the target, then moved
// into place. Errors are thrown as they come; callers say what the file was for.
import { randomBytes } from 'node:crypto'
import { chmodSync, linkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface PrivateFileOptions {
  /**
   * `replace` (default) renames over an existing file; `create` links into place only if there is
   * none (two processes creating it at once share the winner's) and answers whether it wrote.
   */
  mode?: 'replace' | 'create'
}

export function writePrivateFile(path: string, text: string, options: PrivateFileOptions = {}): boolean {
  const temporary = join(dirname(path), `.innkeeper-${process.pid}-${randomBytes(6).toString('hex')}.tmp`)
  let placed = false
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' })
    chmodSync(temporary, 0o600)
    if (options.mode === 'create') {
      try {
        linkSync(temporary, path)
        placed = true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    } else {
      renameSync(temporary, path)
      placed = true
    }
    return placed
  } finally {
    // After a rename the temp file is gone; after a link (or a failure) it is removed here.
    try {
      unlinkSync(temporary)
    } catch {
      // Never created, or already renamed.
    }
  }
}
