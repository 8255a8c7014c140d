// One emulator's state: its clock, switches, clients, token authority and counters. The HTTP
// servers of a platform (Booking Experts has two) share one core.
import { randomBytes } from 'node:crypto'
import { ClientRegistry, type EmulatorClient, OOB_REDIRECT_URI } from './clients.js'
import { EmulatorClock } from './clock.js'
import { applyConfigPatch, BASE_CONFIG, type EmulatorConfig, type EmulatorConfigPatch } from './config.js'
import { TokenAuthority, type TokenMinter } from './oauth-server.js'
import type { EmulatorInfo, EmulatorOptions } from './platform.js'
import { EmulatorStats, type EmulatorStatsSnapshot } from './stats.js'

export interface CoreOptions {
  platform: string
  /** The platform's documented behaviour, applied before the caller's `options.config`. */
  defaults: EmulatorConfigPatch
  minter: TokenMinter
  options: EmulatorOptions
}

export class EmulatorCore {
  readonly platform: string
  readonly clock: EmulatorClock
  readonly stats = new EmulatorStats()
  readonly clients: ClientRegistry
  readonly authority: TokenAuthority
  readonly defaultClient: EmulatorClient
  config: EmulatorConfig
  /** Set once the servers listen. */
  info!: EmulatorInfo
  private readonly startConfig: EmulatorConfig

  constructor(options: CoreOptions) {
    this.platform = options.platform
    this.startConfig = applyConfigPatch(
      applyConfigPatch(BASE_CONFIG, options.defaults),
      options.options.config,
    )
    this.config = structuredClone(this.startConfig)
    this.clock = new EmulatorClock(() => this.config.clockOffsetSeconds)
    this.clients = new ClientRegistry(() => this.config.extraRedirectUris)
    this.defaultClient = this.clients.register({
      id: options.options.clientId ?? `${options.platform}-${randomBytes(6).toString('hex')}`,
      secret: options.options.clientSecret ?? randomBytes(24).toString('base64url'),
      redirectUris: [OOB_REDIRECT_URI],
      allowLoopbackRedirects: true,
      kind: 'app',
    })
    for (const client of options.options.clients ?? []) this.clients.register(client)
    this.authority = new TokenAuthority({
      clock: this.clock,
      config: () => this.config,
      stats: this.stats,
      minter: options.minter,
    })
  }

  configure(patch: unknown): EmulatorConfig {
    this.config = applyConfigPatch(this.config, patch)
    return this.config
  }

  reset(): void {
    this.config = structuredClone(this.startConfig)
    this.clock.reset()
    this.stats.reset()
    this.authority.reset()
    this.clients.restoreSecrets()
  }

  snapshot(): EmulatorStatsSnapshot {
    return this.stats.snapshot({
      families: this.authority.familyCounts(),
      clock: { nowMs: this.clock.nowMs(), advancedSeconds: this.clock.advancedSeconds },
    })
  }

  /** Access-token lifetime for a grant: refreshes may differ (Booking Experts' `expires: 3600`). */
  accessTokenTtl(grant: 'refresh_token' | 'other'): number {
    return grant === 'refresh_token'
      ? (this.config.refreshedAccessTokenTtl ?? this.config.accessTokenTtl)
      : this.config.accessTokenTtl
  }
}
