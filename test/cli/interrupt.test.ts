// Ctrl-C during `innkeeper refresh` on a rotating platform: the platform has already retired the
// old refresh token when it answers, so the CLI lets the token request in flight finish and saves
// its answer before it exits. The next refresh then uses the new refresh token (no reuse
// detection, the grant survives); a second Ctrl-C exits at once and says what may be lost.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'

let emulator: EmulatorHandle
let home: Home

beforeEach(async () => {
  emulator = await startEmulator('smily')
  emulator.configure({ rotateRefreshTokens: true, reuseDetection: true })
  home = makeHome()
  await addApp(home, 'smily', 'smily', emulator, ['--scope', 'public rentals_read'])
  const connect = home.start(['connect', 'smily'])
  const consent = await answerConsent(await connect.firstLine)
  connect.child.stdin.end(`${consent.code}\n`)
  expect((await connect.done).code).toBe(0)
})
afterEach(async () => {
  await emulator.close()
  home.close()
})

/** Waits (generously) until the emulator has received `count` refresh-token requests. */
async function refreshRequestsReceived(count: number): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    if ((emulator.stats().tokenRequests.refresh_token ?? 0) >= count) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('the refresh never reached the emulator')
}

describe('Ctrl-C during innkeeper refresh', () => {
  it('finishes the token request in flight and saves it: the next refresh works, no reuse detected', async () => {
    emulator.configure({ latencyMs: 1_500 })
    const running = home.start(['refresh', 'smily/main'])
    running.child.stdin.end()
    await refreshRequestsReceived(1)
    running.child.kill('SIGINT')
    const interrupted = await running.done
    expect(interrupted.code).toBe(130)
    expect(interrupted.stderr).toContain('finishing the token request in flight')

    emulator.configure({ latencyMs: 0 })
    const again = await home.run(['refresh', 'smily/main'])
    expect(again.code, again.stderr).toBe(0)
    expect(emulator.stats().reuseDetected).toBe(0)
    expect(emulator.stats().familiesRevoked).toBe(0)
    const token = await home.run(['token', 'smily/main'])
    expect(token.code, token.stderr).toBe(0)
  })

  it('a second Ctrl-C exits at once and says what may be lost', async () => {
    emulator.configure({ latencyMs: 5_000 })
    const running = home.start(['refresh', 'smily/main'])
    running.child.stdin.end()
    await refreshRequestsReceived(1)
    running.child.kill('SIGINT')
    await new Promise((resolve) => setTimeout(resolve, 300))
    running.child.kill('SIGINT')
    const result = await running.done
    expect(result.code).toBe(130)
    expect(result.stderr).toContain('stopped while a token request was in flight')
    expect(result.stderr).toContain('innkeeper show')
  })
})
