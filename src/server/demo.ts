// `innkeeper serve --demo`: starts every platform's emulator and registers one demo app per
// platform against it (Booking Experts redirecting to this server's `/callback`), so a new user
// can click through every flow. Emulators load only here, never for a normal `serve`.
import { appSettingsFor } from '../emulators/app-settings.js'
import type { EmulatorHandle } from '../emulators/index.js'
import type { Innkeeper } from '../index.js'

export interface DemoSetup {
  emulators: EmulatorHandle[]
  /** App name → what it demonstrates. */
  apps: Array<{ name: string; provider: string; flow: string }>
  /** Prefilled connect-option values for the dashboard. */
  connectDefaults: Record<string, Record<string, string>>
  close(): Promise<void>
}

function byPlatform(handles: EmulatorHandle[], platform: string): EmulatorHandle {
  const handle = handles.find((candidate) => candidate.platform === platform)
  if (!handle) throw new Error(`The ${platform} emulator did not start.`)
  return handle
}

export async function startDemo(keeper: Innkeeper, callbackUrl: string): Promise<DemoSetup> {
  const { startEmulators } = await import('../emulators/index.js')
  const emulators = await startEmulators(['bookingsync', 'bookingexperts', 'bookingtime', 'bookyflow'])
  try {
    const bookingsync = byPlatform(emulators, 'bookingsync')
    const bookingexperts = byPlatform(emulators, 'bookingexperts')
    const bookingtime = byPlatform(emulators, 'bookingtime')
    const bookyflow = byPlatform(emulators, 'bookyflow')
    await keeper.apps.add('smily-demo', {
      provider: 'bookingsync',
      ...appSettingsFor(bookingsync.info),
      scopes: ['public', 'rentals_read'],
    })
    await keeper.apps.add('experts-demo', {
      provider: 'bookingexperts',
      ...appSettingsFor(bookingexperts.info),
      redirectUri: callbackUrl,
    })
    await keeper.apps.add('bookingtime-demo', {
      provider: 'bookingtime',
      ...appSettingsFor(bookingtime.info),
    })
    await keeper.apps.add('bookyflow-demo', {
      provider: 'bookyflow',
      ...appSettingsFor(bookyflow.info),
      scopes: ['read', 'write'],
    })
    return {
      emulators,
      apps: [
        {
          name: 'smily-demo',
          provider: 'BookingSync (Smily)',
          flow: 'out-of-band: approve in a new tab, paste the code',
        },
        {
          name: 'experts-demo',
          provider: 'Booking Experts',
          flow: 'redirect to /callback, subscription, return button',
        },
        { name: 'bookingtime-demo', provider: 'bookingtime', flow: 'client credentials for an organization' },
        { name: 'bookyflow-demo', provider: 'BookyFlow', flow: 'client credentials with a channel announce' },
      ],
      connectDefaults: {
        'bookingtime-demo': { organizationId: bookingtime.info.organizationId ?? '' },
        'bookyflow-demo': { channel: 'innkeeper-demo' },
      },
      close: async () => {
        await Promise.all(emulators.map((handle) => handle.close()))
      },
    }
  } catch (error) {
    await Promise.all(emulators.map((handle) => handle.close()))
    throw error
  }
}
