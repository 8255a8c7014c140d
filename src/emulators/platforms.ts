// Every emulated platform, in the order `all` starts them: the one list `innkeeper emulate`,
// `startEmulator(s)`, the demos and their help read. A new platform adds its descriptor here
// (an import and an entry); everything else about it lives in `src/emulators/<platform>.ts`.
import { ConfigError } from '../errors.js'
import { bookingexpertsPlatform } from './bookingexperts.js'
import { bookingsyncPlatform } from './bookingsync.js'
import { bookingtimePlatform } from './bookingtime.js'
import { bookyflowPlatform } from './bookyflow.js'
import type { EmulatedPlatform, EmulatorHandle, EmulatorInfo, EmulatorOptions } from './platform.js'

export const EMULATED_PLATFORMS = [
  bookingsyncPlatform,
  bookingexpertsPlatform,
  bookingtimePlatform,
  bookyflowPlatform,
] as const

export type EmulatorPlatform = (typeof EMULATED_PLATFORMS)[number]['name']

export const EMULATOR_PLATFORMS: readonly EmulatorPlatform[] = EMULATED_PLATFORMS.map(
  (platform) => platform.name,
)

const EVERY: readonly EmulatedPlatform[] = EMULATED_PLATFORMS

/** The descriptor of a platform name or alias, if there is one. */
export function findEmulatedPlatform(name: string): EmulatedPlatform | undefined {
  const wanted = name.trim().toLowerCase()
  return EVERY.find((platform) => platform.name === wanted || platform.aliases.includes(wanted))
}

/** Every name `innkeeper emulate` takes: each platform, then the aliases, then `all`. */
export function emulatorNames(): string[] {
  return [...EVERY.map((platform) => platform.name), ...EVERY.flatMap((platform) => platform.aliases), 'all']
}

function resolveDescriptors(names: readonly string[]): EmulatedPlatform[] {
  const resolved: EmulatedPlatform[] = []
  for (const raw of names) {
    const found = raw.trim().toLowerCase() === 'all' ? EVERY : [findEmulatedPlatform(raw)]
    for (const platform of found) {
      if (!platform) {
        throw new ConfigError(
          'unknown_provider',
          `There is no emulator for "${raw}". Choose from: ${emulatorNames().join(', ')}.`,
        )
      }
      if (!resolved.includes(platform)) resolved.push(platform)
    }
  }
  return resolved
}

/** Resolves names, aliases and `all` into distinct platforms, in the order given. */
export function resolveEmulatorPlatforms(names: readonly string[]): EmulatorPlatform[] {
  return resolveDescriptors(names).map((platform) => platform.name as EmulatorPlatform)
}

export function startEmulator(
  platform: EmulatorPlatform | (string & {}),
  options?: EmulatorOptions,
): Promise<EmulatorHandle> {
  const [resolved] = resolveDescriptors([platform])
  if (!resolved || platform === 'all') {
    throw new ConfigError(
      'unknown_provider',
      'startEmulator takes one platform; use startEmulators for several.',
    )
  }
  return resolved.start(options)
}

/**
 * Starts several emulators. With a non-zero `port`, they take consecutive ports from it (as many
 * as each descriptor's `ports`); with port 0 each gets a free one. Closes what started if one fails.
 */
export async function startEmulators(
  platforms: readonly string[],
  options: EmulatorOptions = {},
): Promise<EmulatorHandle[]> {
  const handles: EmulatorHandle[] = []
  let port = options.port ?? 0
  try {
    for (const platform of resolveDescriptors(platforms)) {
      handles.push(await platform.start({ ...options, port, apiPort: port === 0 ? 0 : port + 1 }))
      if (port !== 0) port += platform.ports
    }
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()))
    throw error
  }
  return handles
}

/** The descriptor of a running emulator. */
export function platformOf(handle: EmulatorHandle): EmulatedPlatform {
  const platform = findEmulatedPlatform(handle.platform)
  if (!platform) throw new Error(`No descriptor lists the ${handle.platform} emulator.`)
  return platform
}

/** What `innkeeper emulate --json` prints: one JSON object keyed by platform (the outside contract). */
export type EmulatorDescription = Partial<Record<EmulatorPlatform, EmulatorInfo>>

export function describeEmulators(handles: readonly EmulatorHandle[]): EmulatorDescription {
  return Object.fromEntries(handles.map((handle) => [handle.platform, handle.info]))
}

const FIELD_LABELS: Array<[keyof EmulatorInfo, string]> = [
  ['baseUrl', 'base URL'],
  ['authorizeUrl', 'authorize'],
  ['tokenUrl', 'token'],
  ['apiTokenUrl', 'token (API host)'],
  ['revokeUrl', 'revoke'],
  ['apiUrl', 'API'],
  ['moduleApiUrl', 'Module API'],
  ['adminUrl', 'admin'],
  ['clientId', 'client id'],
  ['clientSecret', 'client secret'],
  ['organizationId', 'organization id'],
  ['moduleClientId', 'module client id'],
]

/** What `innkeeper emulate` prints for a person: the same facts, one block per platform. */
export function formatEmulatorsForPeople(handles: readonly EmulatorHandle[]): string {
  const width = Math.max(...FIELD_LABELS.map(([, label]) => label.length))
  const blocks = handles.map((handle) => {
    const lines = FIELD_LABELS.filter(([key]) => handle.info[key] !== undefined).map(
      ([key, label]) => `  ${label.padEnd(width)}  ${handle.info[key]}`,
    )
    return `${platformOf(handle).label} emulator\n${lines.join('\n')}`
  })
  return `${blocks.join('\n\n')}\n`
}
