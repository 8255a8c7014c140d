// Work that must not be cut off half-way: a token request whose answer has to be saved (a
// rotating platform has already retired the old refresh token when it answers). The CLI asks
// here, on Ctrl-C, whether to exit at once or to let the work finish first.

let running = 0
let waiters: Array<() => void> = []

/** Runs `work`, counted as in flight until it settles. */
export async function inFlight<T>(work: () => Promise<T>): Promise<T> {
  running += 1
  try {
    return await work()
  } finally {
    running -= 1
    if (running === 0) {
      const settled = waiters
      waiters = []
      for (const resolve of settled) resolve()
    }
  }
}

/** How many token requests (with their save) are in flight in this process. */
export function inFlightCount(): number {
  return running
}

/** Resolves once nothing is in flight. */
export function whenNothingInFlight(): Promise<void> {
  if (running === 0) return Promise.resolve()
  return new Promise((resolve) => waiters.push(resolve))
}
