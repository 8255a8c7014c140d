// What `innkeeper emulate` prints: one JSON object keyed by platform (the outside contract), or
// the same facts laid out for a person.
import type { EmulatorHandle, EmulatorInfo, EmulatorPlatform } from './types.js'

export type EmulatorDescription = Partial<Record<EmulatorPlatform, EmulatorInfo>>

export function describeEmulators(handles: readonly EmulatorHandle[]): EmulatorDescription {
  const description: EmulatorDescription = {}
  for (const handle of handles) description[handle.platform] = handle.info
  return description
}

const LABELS: Record<EmulatorPlatform, string> = {
  bookingsync: 'BookingSync (Smily)',
  bookingexperts: 'Booking Experts',
  bookingtime: 'bookingtime',
  bookyflow: 'BookyFlow',
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

export function formatEmulatorsForPeople(handles: readonly EmulatorHandle[]): string {
  const width = Math.max(...FIELD_LABELS.map(([, label]) => label.length))
  const blocks = handles.map((handle) => {
    const lines = FIELD_LABELS.filter(([key]) => handle.info[key] !== undefined).map(
      ([key, label]) => `  ${label.padEnd(width)}  ${handle.info[key]}`,
    )
    return `${LABELS[handle.platform]} emulator\n${lines.join('\n')}`
  })
  return `${blocks.join('\n\n')}\n`
}
