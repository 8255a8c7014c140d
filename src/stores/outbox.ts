// The durable webhook outbox every store keeps: one entry per (event, receiver), delivered at
// least once, in order per ordering key (one receiver and one connection), by dispatchers that
// claim due entries with a lease. Entries hold only public data (the delivery body is built
// from a connection's public view); a delivered entry is removed, a dead one is kept for people
// to see. The store judges every time by the `now` it is given, like leases.

/** What a caller enqueues: the store adds the sequence number, attempts and claim. */
export interface OutboxEntryInput {
  /** Unique per delivery (`<event id>.<receiver id>`). */
  id: string
  eventId: string
  receiverId: string
  /** Entries with one key go out one at a time, in enqueue order (receiver and connection). */
  orderingKey: string
  /** The JSON body to deliver. Public data only: never a token or a secret. */
  body: string
  createdAt: number
  /** First delivery attempt not before this time (normally `createdAt`). */
  nextAttemptAt: number
}

export type OutboxState = 'pending' | 'dead'

export interface OutboxEntry extends OutboxEntryInput {
  /** Grows with every enqueue in the store; the order within an ordering key. */
  seq: number
  state: OutboxState
  attempts: number
  lastError?: string
  /** The dispatcher holding the entry and until when; a claim past `claimExpiresAt` is free to take. */
  claimOwner?: string
  claimExpiresAt?: number
}

export interface ListOutboxFilter {
  receiverId?: string
  state?: OutboxState
  /** At most this many, oldest first (default 100). */
  limit?: number
}

/** The store side of the outbox; part of `Store`. */
export interface OutboxStore {
  /** Adds entries (atomically, in the order given). An id already present is left as it is. */
  enqueue(entries: OutboxEntryInput[]): Promise<void>
  /**
   * Atomically claims up to `limit` pending entries that are due (`nextAttemptAt <= now`), not
   * claimed by anyone (or whose claim expired), and first among the pending entries of their
   * ordering key; each is claimed for `owner` until `now + leaseMs`. Concurrent claimers never
   * receive the same entry, and an entry is never claimed while an earlier one of its key is pending.
   */
  claim(now: number, limit: number, owner: string, leaseMs: number): Promise<OutboxEntry[]>
  /** The entry was delivered: removes it (whoever holds the claim). False if it was already gone. */
  complete(id: string): Promise<boolean>
  /**
   * A delivery attempt failed: counts it, records `error`, frees the claim, and schedules the next
   * attempt at `nextAttemptAt`, or marks the entry `dead` when that is null (it then no longer
   * holds back later entries of its key). Only the current claim owner may do this.
   */
  fail(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<boolean>
  /** Pending and dead entries, oldest first. */
  list(filter?: ListOutboxFilter): Promise<OutboxEntry[]>
  /** Removes every entry of a receiver (it was deleted); answers how many. */
  purge(receiverId: string): Promise<number>
}

export const OUTBOX_ERROR_MAX = 500

/** Keeps stored error texts short. */
export function clipOutboxError(error: string): string {
  return error.length > OUTBOX_ERROR_MAX ? `${error.slice(0, OUTBOX_ERROR_MAX - 1)}…` : error
}
