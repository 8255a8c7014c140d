// How many refreshes the background refresher runs at once against one app's token endpoint:
// an AIMD limit (additive increase, multiplicative decrease, as TCP congestion control). It
// grows by one after each full window of successes whose latency stayed near the lowest seen
// (the platform is not queueing us), halves on a 429, a 5xx or a timeout, and waits out a
// `Retry-After`; never above the operator's cap, never below one. Platforms rate-limit per
// OAuth client, so each app has its own. Written here (a few dozen lines) because no
// maintained npm package offers an adaptive limiter that takes outside signals such as
// Retry-After; p-limit and its kin are fixed limits.

export interface AdaptiveLimitOptions {
  /** In flight at the start (default 4, at most `max`). */
  initial?: number
  /** The operator's cap (`--max-concurrency-per-app`). */
  max: number
}

/** Latency within this factor of the lowest seen (plus a small constant) counts as "at the floor". */
const NEAR_FLOOR_FACTOR = 2
const NEAR_FLOOR_SLACK_MS = 20

export class AdaptiveLimit {
  /** Refreshes allowed at once now. */
  limit: number
  inFlight = 0
  /** No new request before this time (ms since the epoch): a Retry-After. */
  blockedUntil = 0
  /** Lowest token request latency seen (ms). */
  floorMs = Number.POSITIVE_INFINITY
  /** Decreases so far (for the worker's log and the bench). */
  decreases = 0
  private successesInWindow = 0
  private slowInWindow = false
  private lastDecreaseAt = Number.NEGATIVE_INFINITY

  private maxNow: number

  constructor(options: AdaptiveLimitOptions) {
    this.maxNow = Math.max(1, options.max)
    this.limit = Math.min(this.maxNow, Math.max(1, options.initial ?? 4))
  }

  get max(): number {
    return this.maxNow
  }

  /** The operator's cap changed (an app setting read later): the limit never exceeds it. */
  set max(value: number) {
    this.maxNow = Math.max(1, value)
    this.limit = Math.min(this.limit, this.maxNow)
  }

  /** Whether one more may start now. */
  canStart(now: number): boolean {
    return now >= this.blockedUntil && this.inFlight < this.limit
  }

  /** A token request answered in `latencyMs`. */
  succeeded(latencyMs: number): void {
    if (latencyMs < this.floorMs) this.floorMs = latencyMs
    if (latencyMs > this.floorMs * NEAR_FLOOR_FACTOR + NEAR_FLOOR_SLACK_MS) this.slowInWindow = true
    this.successesInWindow += 1
    if (this.successesInWindow < this.limit) return
    // A whole window answered near the floor: the platform has room for one more.
    if (!this.slowInWindow && this.limit < this.maxNow) this.limit += 1
    this.successesInWindow = 0
    this.slowInWindow = false
  }

  /**
   * The platform pushed back (429, 5xx, timeout): halve, at most once per `floorMs` or 100 ms
   * so one burst of refusals counts once, and wait out `retryAfterMs` when given.
   */
  overloaded(now: number, retryAfterMs?: number): void {
    if (retryAfterMs !== undefined && retryAfterMs > 0)
      this.blockedUntil = Math.max(this.blockedUntil, now + retryAfterMs)
    const quiet = Number.isFinite(this.floorMs) ? Math.max(100, this.floorMs) : 100
    if (now - this.lastDecreaseAt < quiet) return
    this.lastDecreaseAt = now
    this.limit = Math.max(1, Math.floor(this.limit / 2))
    this.decreases += 1
    this.successesInWindow = 0
    this.slowInWindow = false
  }
}

/**
 * Hands out slots to run one refresh of an app: at most `total` at once in the worker, and per
 * app what its AdaptiveLimit allows. Waiters are served in arrival order where their app has room.
 */
export class RefreshSlots {
  private readonly limits = new Map<string, AdaptiveLimit>()
  private readonly waiting: Array<{ app: string; resolve: () => void }> = []
  private running = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly total: number,
    private readonly capFor: (app: string) => number,
    private readonly now: () => number = Date.now,
  ) {}

  limitOf(app: string): AdaptiveLimit {
    let limit = this.limits.get(app)
    if (!limit) {
      limit = new AdaptiveLimit({ max: this.capFor(app) })
      this.limits.set(app, limit)
    } else {
      limit.max = this.capFor(app)
    }
    return limit
  }

  /** The limit each app settled at (for logs and the bench). */
  snapshot(): Record<string, { limit: number; decreases: number; floorMs: number | null }> {
    return Object.fromEntries(
      [...this.limits].map(([app, l]) => [
        app,
        { limit: l.limit, decreases: l.decreases, floorMs: Number.isFinite(l.floorMs) ? l.floorMs : null },
      ]),
    )
  }

  /** Resolves when a refresh of `app` may start; call `release(app)` when it ends. */
  acquire(app: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ app, resolve })
      this.pump()
    })
  }

  release(app: string): void {
    this.running -= 1
    this.limitOf(app).inFlight -= 1
    this.pump()
  }

  private pump(): void {
    const now = this.now()
    let wakeAt = Number.POSITIVE_INFINITY
    for (let i = 0; i < this.waiting.length && this.running < this.total; ) {
      const waiter = this.waiting[i]!
      const limit = this.limitOf(waiter.app)
      if (limit.canStart(now)) {
        this.waiting.splice(i, 1)
        this.running += 1
        limit.inFlight += 1
        waiter.resolve()
      } else {
        if (limit.blockedUntil > now) wakeAt = Math.min(wakeAt, limit.blockedUntil)
        i += 1
      }
    }
    if (wakeAt !== Number.POSITIVE_INFINITY && !this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined
          this.pump()
        },
        Math.max(1, wakeAt - now),
      )
    }
  }

  /** Cancels the wake-up timer (the refresher is stopping and nothing waits any more). */
  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}
