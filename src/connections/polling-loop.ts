// Runs rounds of claimed work until stopped, pausing between rounds that found less than a full
// batch: the shared heart of the background refresher and the webhook dispatcher. `stop()` cuts
// a pause short and waits for the round in flight to finish.

export class PollingLoop {
  private running = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined

  /**
   * `round` answers how many items it claimed; a full batch means "more may be waiting".
   * `background`: the pauses never keep the process alive (housekeeping beside other work).
   */
  constructor(
    private readonly round: () => Promise<number>,
    private readonly batchSize: number,
    private readonly idleMs: number,
    private readonly options: { background?: boolean } = {},
  ) {}

  get isRunning(): boolean {
    return this.running
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0
      try {
        claimed = await this.round()
      } catch {
        // The store failed for a moment: wait a round and try again.
      }
      if (claimed < this.batchSize && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.idleMs)
          if (this.options.background) timer.unref()
          this.wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        this.wake = undefined
      }
    }
  }
}
