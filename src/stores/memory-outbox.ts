// The webhook outbox of the memory store: a map of entries in one process. Every method runs
// without awaiting, so each one is atomic within the process (see `outbox.ts` for the contract).
import {
  clipOutboxError,
  type ListOutboxFilter,
  type OutboxEntry,
  type OutboxEntryInput,
  type OutboxStore,
} from './outbox.js'

export class MemoryOutbox implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>()
  private seq = 0

  async enqueueOutbox(entries: OutboxEntryInput[]): Promise<void> {
    for (const input of entries) {
      if (this.entries.has(input.id)) continue
      this.seq += 1
      this.entries.set(input.id, { ...structuredClone(input), seq: this.seq, state: 'pending', attempts: 0 })
    }
  }

  async claimOutbox(now: number, limit: number, owner: string, leaseMs: number): Promise<OutboxEntry[]> {
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

  async completeOutbox(id: string): Promise<boolean> {
    return this.entries.delete(id)
  }

  async failOutbox(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<boolean> {
    const entry = this.entries.get(id)
    if (!entry || entry.state !== 'pending' || entry.claimOwner !== owner) return false
    entry.attempts += 1
    entry.lastError = clipOutboxError(error)
    entry.claimOwner = undefined
    entry.claimExpiresAt = undefined
    if (nextAttemptAt === null) entry.state = 'dead'
    else entry.nextAttemptAt = nextAttemptAt
    return true
  }

  async listOutbox(filter: ListOutboxFilter = {}): Promise<OutboxEntry[]> {
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

  async purgeOutbox(receiverId: string): Promise<number> {
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
