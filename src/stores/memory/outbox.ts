// The webhook outbox of the memory store: a map of entries in one process. Every method runs
// without awaiting, so each one is atomic within the process (see `../outbox.ts` for the contract).
import {
  clipOutboxError,
  type ListOutboxFilter,
  type OutboxEntry,
  type OutboxEntryInput,
  type OutboxStore,
} from '../outbox.js'

export class MemoryOutbox implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>()
  private seq = 0

  /** `assertOpen` throws once the owning store is closed. */
  constructor(private readonly assertOpen: () => void = () => {}) {}

  async enqueue(entries: OutboxEntryInput[]): Promise<void> {
    this.assertOpen()
    for (const input of entries) {
      if (this.entries.has(input.id)) continue
      this.seq += 1
      this.entries.set(input.id, { ...structuredClone(input), seq: this.seq, state: 'pending', attempts: 0 })
    }
  }

  async claim(now: number, limit: number, owner: string, leaseMs: number): Promise<OutboxEntry[]> {
    this.assertOpen()
    const heads = new Map<string, OutboxEntry>()
    for (const entry of [...this.entries.values()].sort((a, b) => a.seq - b.seq)) {
      if (entry.state === 'pending' && !heads.has(entry.orderingKey)) heads.set(entry.orderingKey, entry)
    }
    const due = [...heads.values()]
      .filter((entry) => entry.nextAttemptAt <= now && (entry.claimExpiresAt ?? 0) <= now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.seq - b.seq)
      .slice(0, Math.max(0, limit))
    for (const entry of due) {
      entry.claimOwner = owner
      entry.claimExpiresAt = now + leaseMs
    }
    return due.map((entry) => structuredClone(entry))
  }

  async complete(id: string): Promise<boolean> {
    this.assertOpen()
    return this.entries.delete(id)
  }

  async fail(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<boolean> {
    this.assertOpen()
    const entry = this.entries.get(id)
    if (entry?.state !== 'pending' || entry.claimOwner !== owner) return false
    entry.attempts += 1
    entry.lastError = clipOutboxError(error)
    entry.claimOwner = undefined
    entry.claimExpiresAt = undefined
    if (nextAttemptAt === null) entry.state = 'dead'
    else entry.nextAttemptAt = nextAttemptAt
    return true
  }

  async list(filter: ListOutboxFilter = {}): Promise<OutboxEntry[]> {
    this.assertOpen()
    return [...this.entries.values()]
      .filter(
        (entry) =>
          (filter.receiverId === undefined || entry.receiverId === filter.receiverId) &&
          (filter.state === undefined || entry.state === filter.state),
      )
      .sort((a, b) => a.seq - b.seq)
      .slice(0, filter.limit ?? 100)
      .map((entry) => withoutUndefined(structuredClone(entry)))
  }

  async purge(receiverId: string): Promise<number> {
    this.assertOpen()
    let removed = 0
    for (const [id, entry] of this.entries) {
      if (entry.receiverId !== receiverId) continue
      this.entries.delete(id)
      removed += 1
    }
    return removed
  }
}

function withoutUndefined(entry: OutboxEntry): OutboxEntry {
  for (const key of Object.keys(entry) as Array<keyof OutboxEntry>) {
    if (entry[key] === undefined) delete entry[key]
  }
  return entry
}
