// The public shapes of the emulators: platform names, the info JSON each one reports (the
// outside contract of `innkeeper emulate --json`), start options and the handle tests hold.
import type { ClientRegistration } from './clients.js'
import type { EmulatorConfig, EmulatorConfigPatch } from './config.js'
import type { EmulatorStatsSnapshot } from './stats.js'

export const EMULATOR_PLATFORMS = ['bookingsync', 'bookingexperts', 'bookingtime', 'bookyflow'] as const
export type EmulatorPlatform = (typeof EMULATOR_PLATFORMS)[number]

export interface EmulatorInfo {
  /** Authorization endpoint (consent page); absent for BookyFlow, which has no authorization code flow. */
  authorizeUrl?: string
  tokenUrl: string
  apiUrl: string
  /** BookyFlow: the installation's base URL (token and API derive from it). */
  baseUrl?: string
  revokeUrl?: string
  /** Control API of this emulator (`/config`, `/advance`, `/stats`, …). */
  adminUrl: string
  clientId: string
  clientSecret: string
  /** Booking Experts: the app host (authorize, token) and the API host's own token endpoint. */
  appUrl?: string
  apiTokenUrl?: string
  /**
   * bookingtime: the demo organization the test client may access. Booking Experts: the demo
   * organization installs come from unless an approval names another.
   */
  organizationId?: string
  /** Booking Experts: an API key registered to the demo organization (`X-API-KEY`). */
  apiKey?: string
  /** bookingtime: the Module API client. */
  moduleClientId?: string
  moduleClientSecret?: string
  moduleApiUrl?: string
}

export interface EmulatorOptions {
  /** Port of the (first) server; 0 (default) picks a free one. */
  port?: number
  /** Booking Experts' API host port; defaults to `port + 1` when `port` is set, else 0. */
  apiPort?: number
  host?: string
  /** Initial switches (also what `reset()` returns to). */
  config?: EmulatorConfigPatch
  /** The ready test client; random when not given. */
  clientId?: string
  clientSecret?: string
  /** More clients to register. A missing `secret` makes a public client. */
  clients?: ClientRegistration[]
  /**
   * bookingtime: more organizations the test client may access. Booking Experts: more
   * organizations that may install the app (each with one administration of its own). The demo
   * organization always exists.
   */
  organizationIds?: string[]
}

export interface ApprovalRequest {
  clientId?: string
  redirectUri?: string
  scope?: string
  state?: string
  codeChallenge?: string
  codeChallengeMethod?: 'S256' | 'plain'
  /** bookingtime: the organization the user picked. Booking Experts: the organization that installs. */
  organizationId?: string
}

export interface ApprovalResult {
  code: string
  /** Where the browser would go: the redirect URI with code and state, or the oob code page. */
  location: string
}

export interface EmulatorHandle {
  platform: EmulatorPlatform
  info: EmulatorInfo
  close(): Promise<void>
  /** Moves this emulator's clock forward. */
  advance(seconds: number): void
  configure(patch: EmulatorConfigPatch): EmulatorConfig
  config(): EmulatorConfig
  stats(): EmulatorStatsSnapshot
  /** Forgets every code, token and counter and restores the start configuration. */
  reset(): void
  /** Approves an authorization as if a person clicked Approve (default client and redirect: oob). */
  approve(request?: ApprovalRequest): ApprovalResult
  /** The owner uninstalls the app: every grant is revoked. Returns the number of families revoked. */
  revokeAll(): number
}
