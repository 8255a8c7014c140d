// Test fixtures for the connection tests: an emulator, an Innkeeper on a fresh store, and one
// clock that moves both forward together (so expiry is driven without sleeping).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  appSettingsFor,
  type EmulatorHandle,
  type EmulatorOptions,
  startEmulator,
} from '../../src/emulators/index.js'
import { Innkeeper, type InnkeeperOptions } from '../../src/index.js'
import { answerConsent } from './consent.js'

export interface Fixture {
  emulator: EmulatorHandle
  keeper: Innkeeper
  dir: string
  storeUrl: string
  keys: string
  /** Moves the keeper's clock and the emulator's clock forward together. */
  advance(seconds: number): void
  now(): number
  /** Opens a second Innkeeper on the same store (a restarted process). */
  reopen(options?: Partial<InnkeeperOptions>): Promise<Innkeeper>
  close(): Promise<void>
}

export const TEST_KEYS = `test:${Buffer.alloc(32, 7).toString('base64')}`

export async function setup(
  platform: Parameters<typeof startEmulator>[0],
  options: {
    emulator?: EmulatorOptions
    store?: 'sqlite' | 'memory'
    keeper?: Partial<InnkeeperOptions>
  } = {},
): Promise<Fixture> {
  const emulator = await startEmulator(platform, options.emulator)
  const dir = mkdtempSync(join(tmpdir(), 'innkeeper-test-'))
  const storeUrl = options.store === 'memory' ? 'memory:' : `sqlite:${join(dir, 'innkeeper.db')}`
  let offset = 0
  const now = () => Date.now() + offset
  const open = (extra: Partial<InnkeeperOptions> = {}) =>
    Innkeeper.open({
      store: storeUrl,
      keys: TEST_KEYS,
      home: dir,
      now,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      ...options.keeper,
      ...extra,
    })
  const keeper = await open()
  const opened: Innkeeper[] = [keeper]
  return {
    emulator,
    keeper,
    dir,
    storeUrl,
    keys: TEST_KEYS,
    now,
    advance(seconds) {
      offset += seconds * 1000
      emulator.advance(seconds)
    },
    async reopen(extra) {
      const again = await open(extra)
      opened.push(again)
      return again
    },
    async close() {
      for (const instance of opened) await instance.close()
      await emulator.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The app settings that point a provider at an emulator. */
export function appFor(emulator: EmulatorHandle, provider: string, extra: Record<string, unknown> = {}) {
  return { provider, ...appSettingsFor(emulator.info), ...extra }
}

/**
 * A fixture with one connection, `app/main`, that a person approved on the emulator's consent
 * page (BookingSync out of band, asking for `rentals_read`; Booking Experts by its redirect).
 */
export async function setupConnected(
  platform: 'bookingsync' | 'bookingexperts' = 'bookingsync',
): Promise<Fixture> {
  const fixture = await setup(platform)
  await fixture.keeper.apps.add('app', appFor(fixture.emulator, platform))
  const start = await fixture.keeper.authorize('app', {
    scopes: platform === 'bookingsync' ? ['rentals_read'] : undefined,
  })
  await start.complete({ code: (await answerConsent(start.url)).code })
  return fixture
}
