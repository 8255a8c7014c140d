// `innkeeper serve --demo`: starts every platform's emulator and registers one demo app per
// platform against it (its descriptor's `demo`, named `<app>-demo`; a platform that redirects
// comes back to this server's `/callback`), so a new user can click through every flow.
// Emulators load only here, never for a normal `serve`.
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

export async function startDemo(keeper: Innkeeper, callbackUrl: string): Promise<DemoSetup> {
  const { appSettingsFor, platformOf, startEmulators } = await import('../emulators/index.js')
  const emulators = await startEmulators(['all'])
  try {
    const apps: DemoSetup['apps'] = []
    const connectDefaults: DemoSetup['connectDefaults'] = {}
    for (const handle of emulators) {
      const platform = platformOf(handle)
      const demo = platform.demo(handle.info)
      const name = `${demo.app}-demo`
      await keeper.apps.add(name, {
        provider: platform.name,
        ...appSettingsFor(handle.info),
        ...(demo.scopes ? { scopes: demo.scopes } : {}),
        ...(demo.connect === 'redirect' ? { redirectUri: callbackUrl } : {}),
      })
      apps.push({ name, provider: platform.label, flow: demo.flow })
      if (demo.connectOptions) connectDefaults[name] = demo.connectOptions
    }
    return {
      emulators,
      apps,
      connectDefaults,
      close: async () => {
        await Promise.all(emulators.map((handle) => handle.close()))
      },
    }
  } catch (error) {
    await Promise.all(emulators.map((handle) => handle.close()))
    throw error
  }
}
