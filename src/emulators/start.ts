// Starting emulators by platform name: `bookingsync` (alias `smily`), `bookingexperts`,
// `bookingtime`, `bookyflow`, or `all`; several at once on consecutive ports when a port is given.
import { ConfigError } from '../errors.js'
import { startBookingExpertsEmulator } from './bookingexperts.js'
import { startBookingSyncEmulator } from './bookingsync.js'
import { startBookingtimeEmulator } from './bookingtime.js'
import { startBookyFlowEmulator } from './bookyflow.js'
import {
  EMULATOR_PLATFORMS,
  type EmulatorHandle,
  type EmulatorOptions,
  type EmulatorPlatform,
} from './types.js'

const STARTERS: Record<EmulatorPlatform, (options?: EmulatorOptions) => Promise<EmulatorHandle>> = {
  bookingsync: startBookingSyncEmulator,
  bookingexperts: startBookingExpertsEmulator,
  bookingtime: startBookingtimeEmulator,
  bookyflow: startBookyFlowEmulator,
}

const ALIASES: Record<string, EmulatorPlatform> = {
  smily: 'bookingsync',
  'booking-experts': 'bookingexperts',
}

/** How many ports a platform listens on (Booking Experts: app host and API host). */
export const PORTS_PER_PLATFORM: Record<EmulatorPlatform, number> = {
  bookingsync: 1,
  bookingexperts: 2,
  bookingtime: 1,
  bookyflow: 1,
}

/** Resolves names, aliases and `all` into distinct platforms, in the order given. */
export function resolveEmulatorPlatforms(names: readonly string[]): EmulatorPlatform[] {
  const resolved: EmulatorPlatform[] = []
  for (const raw of names) {
    const name = raw.trim().toLowerCase()
    const platforms: readonly EmulatorPlatform[] =
      name === 'all'
        ? EMULATOR_PLATFORMS
        : (EMULATOR_PLATFORMS as readonly string[]).includes(name)
          ? [name as EmulatorPlatform]
          : ALIASES[name]
            ? [ALIASES[name]]
            : []
    if (platforms.length === 0) {
      throw new ConfigError(
        'unknown_provider',
        `There is no emulator for "${raw}". Choose from: ${[...EMULATOR_PLATFORMS, 'smily', 'all'].join(', ')}.`,
      )
    }
    for (const platform of platforms) if (!resolved.includes(platform)) resolved.push(platform)
  }
  return resolved
}

export function startEmulator(
  platform: EmulatorPlatform | 'smily' | (string & {}),
  options?: EmulatorOptions,
): Promise<EmulatorHandle> {
  const [resolved] = resolveEmulatorPlatforms([platform])
  if (!resolved || platform === 'all') {
    throw new ConfigError(
      'unknown_provider',
      'startEmulator takes one platform; use startEmulators for several.',
    )
  }
  return STARTERS[resolved](options)
}

/**
 * Starts several emulators. With a non-zero `port`, they take consecutive ports from it
 * (Booking Experts takes two); with port 0 each gets a free one. Closes what started if one fails.
 */
export async function startEmulators(
  platforms: readonly string[],
  options: EmulatorOptions = {},
): Promise<EmulatorHandle[]> {
  const handles: EmulatorHandle[] = []
  let port = options.port ?? 0
  try {
    for (const platform of resolveEmulatorPlatforms(platforms)) {
      handles.push(await STARTERS[platform]({ ...options, port, apiPort: port === 0 ? 0 : port + 1 }))
      if (port !== 0) port += PORTS_PER_PLATFORM[platform]
    }
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()))
    throw error
  }
  return handles
}
