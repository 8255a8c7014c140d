// The refresh recovery journal: where a renewed token set goes when the platform has rotated the
// refresh token but the store could not be written (it stayed unreachable for the whole time the
// refresh lease allowed). One file per rotation under `<home>/recovery/`, mode 0600, its tokens
// sealed with the store's keyring (through the sealer the facade wires); it is replayed into the
// store (compare-and-swap on the pre-rotation refresh token) before this connection is next
// refreshed or read on this machine.
// Nothing is journaled for the memory store: its writes cannot fail, and nothing is at rest there.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { TokenSet } from '../model/token-set.js'
import { writePrivateFile } from '../private-file.js'
import type { SecretSealer } from '../stores/kit/sealing.js'
import type { Store } from '../stores/store.js'

export const RECOVERY_DIRECTORY = 'recovery'
const FORMAT = 'innkeeper-recovery/1'
/**
 * A listing is reused only when the directory's mtime is at least this old when it is taken: a
 * file system's clock can be coarse, so a change just after the mtime may carry the same one.
 */
const MTIME_SETTLED_MS = 1_000

/** What a journal entry holds once opened (all of it sealed in the file). */
export interface RecoveredTokens {
  /** The token set the platform answered, not yet in the store. */
  tokens: TokenSet
  /** The refresh token it replaced: the store must still hold it for the entry to apply. */
  rotatedFrom: string
}

/** One journal file as listed (no secret: the sealed part is not opened). */
export interface JournalEntry {
  path: string
  connection: string
  store: Store['kind']
  createdAt: number
}

export class RecoveryJournal {
  /** The last listing and the directory mtime it was taken at (see `listing`). */
  private listed: { changedAt: number; entries: JournalEntry[] } | undefined

  constructor(
    /** `<home>/recovery`. */
    readonly directory: string,
    /** The kind of store the entries are for (written into each entry, for `innkeeper doctor`). */
    private readonly storeKind: Store['kind'],
    /** Seals with the keyring the store was opened with. */
    private readonly sealer: SecretSealer,
  ) {}

  /** Seals and writes the entry; answers its path. Throws when the file cannot be written. */
  write(connection: string, recovered: RecoveredTokens, now: number): string {
    mkdirSync(this.directory, { recursive: true, mode: 0o700 })
    const path = join(this.directory, entryFileName(connection, recovered.rotatedFrom))
    const sealed = this.sealer.seal(JSON.stringify(recovered), aadFor(connection))
    const body = { format: FORMAT, connection, store: this.storeKind, createdAt: now, sealed }
    writePrivateFile(path, `${JSON.stringify(body, null, 2)}\n`)
    this.listed = undefined
    return path
  }

  /** Every entry, oldest first. */
  entries(): JournalEntry[] {
    return this.listing()
  }

  /** The entries for one connection (any store), oldest first; cheap when there are none. */
  entriesFor(connection: string): JournalEntry[] {
    return this.listing().filter((entry) => entry.connection === connection)
  }

  /**
   * The directory's entries, read and parsed again only when the directory changed (an entry is
   * placed by rename and removed by unlink, both move its mtime): every lookup of a connection
   * that is not fresh in memory asks, and entries that never go (`other` ones, for another store)
   * must not cost a read of every file each time (issue 15).
   */
  private listing(): JournalEntry[] {
    // No directory (the usual case: nothing was ever journaled) answers undefined rather than
    // throwing: an ENOENT error object costs more than the stat itself, on every refresh.
    let changedAt: number
    try {
      const stats = statSync(this.directory, { throwIfNoEntry: false })
      if (!stats) return []
      changedAt = stats.mtimeMs
    } catch {
      return []
    }
    if (this.listed?.changedAt === changedAt) return this.listed.entries
    const entries = listRecoveryJournal(this.directory)
    this.listed = Date.now() - changedAt >= MTIME_SETTLED_MS ? { changedAt, entries } : undefined
    return entries
  }

  /** Opens an entry with the store's keyring; undefined when it was sealed for another keyring or is damaged. */
  open(entry: JournalEntry): RecoveredTokens | undefined {
    try {
      const body = JSON.parse(readFileSync(entry.path, 'utf8')) as { sealed?: unknown }
      if (typeof body.sealed !== 'string') return undefined
      const opened = JSON.parse(this.sealer.open(body.sealed, aadFor(entry.connection))) as RecoveredTokens
      return typeof opened.rotatedFrom === 'string' && opened.tokens ? opened : undefined
    } catch {
      return undefined
    }
  }

  remove(entry: JournalEntry): void {
    this.listed = undefined
    try {
      unlinkSync(entry.path)
    } catch {
      // Another process replayed it first.
    }
  }
}

/** Every entry in a recovery directory (for `innkeeper doctor`); none when it does not exist. */
export function listRecoveryJournal(directory: string): JournalEntry[] {
  let names: string[]
  try {
    names = readdirSync(directory).filter((name) => name.endsWith('.json'))
  } catch {
    return []
  }
  const entries: JournalEntry[] = []
  for (const name of names) {
    const path = join(directory, name)
    try {
      const body = JSON.parse(readFileSync(path, 'utf8')) as Partial<JournalEntry> & { format?: string }
      if (body.format !== FORMAT || typeof body.connection !== 'string') continue
      entries.push({
        path,
        connection: body.connection,
        store: body.store ?? 'sqlite',
        createdAt: Number(body.createdAt) || 0,
      })
    } catch {
      // Being written or removed by another process: seen next time.
    }
  }
  return entries.sort((a, b) => a.createdAt - b.createdAt)
}

/** One file per rotation: named by a hash of the connection and the refresh token it replaced. */
function entryFileName(connection: string, rotatedFrom: string): string {
  return `${createHash('sha256').update(`${connection}\n${rotatedFrom}`).digest('hex').slice(0, 32)}.json`
}

function aadFor(connection: string): string {
  return `innkeeper recovery journal ${connection}`
}
