// Builds the handle a test holds from a core and the servers it runs on.
import type { FastifyInstance } from 'fastify'
import { type AuthorizationPolicy, approveDirectly } from './consent-page.js'
import type { EmulatorCore } from './core.js'
import type { EmulatorHandle } from './platform.js'

export function buildHandle(
  core: EmulatorCore,
  apps: FastifyInstance[],
  policy?: AuthorizationPolicy,
): EmulatorHandle {
  let closing: Promise<void> | undefined
  return {
    platform: core.platform,
    info: core.info,
    close: () => {
      closing ??= Promise.all(apps.map((app) => app.close())).then(() => undefined)
      return closing
    },
    advance: (seconds) => core.clock.advance(seconds),
    configure: (patch) => core.configure(patch),
    config: () => core.config,
    stats: () => core.snapshot(),
    reset: () => core.reset(),
    approve: (request) => {
      if (!policy) throw new Error(`The ${core.platform} emulator has no authorization code flow.`)
      return approveDirectly(core, policy, request)
    },
    revokeAll: () => core.authority.revokeAll(),
  }
}
