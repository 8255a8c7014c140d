// The emulator's clock: real time, plus whatever a test advanced, plus the configured skew.
// Every expiry check and JWT claim reads it, so tests drive expiry without sleeping.

export class EmulatorClock {
  private advancedMs = 0

  constructor(
    private readonly skewSeconds: () => number,
    private readonly realNow: () => number = () => Date.now(),
  ) {}

  nowMs(): number {
    return this.realNow() + this.advancedMs + this.skewSeconds() * 1000
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000)
  }

  /** Moves this emulator's time forward (never backward). */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('seconds must be a number >= 0')
    this.advancedMs += seconds * 1000
  }

  get advancedSeconds(): number {
    return this.advancedMs / 1000
  }

  reset(): void {
    this.advancedMs = 0
  }
}
