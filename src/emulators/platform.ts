// What one emulated platform is: its descriptor (name, label, aliases, ports, start function and
// demo), the info JSON it reports (the outside contract of `innkeeper emulate --json`), its start
// options and the handle tests hold. Each `src/emulators/<platform>.ts` exports one descriptor;
// `platforms.ts` lists them.
import type { ClientRegistration } from './clients.js'
import type { EmulatorConfig, EmulatorConfigPatch } from './config.js'
import type { EmulatorStatsSnapshot } from './stats.js'

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
  /** The descriptor's `name` (the built-in provider it emulates). */
  platform: string
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

/**
 * How `innkeeper demo` and `innkeeper serve --demo` show a platform: the app they register against
 * the emulator, how it connects, and what they print once it has.
 */
export interface EmulatorDemo {
  /** The demo app's name (`serve --demo` adds `-demo`). */
  app: string
  /** What the demo shows of the platform, in a few words. */
  flow: string
  /** Scopes the demo app asks for, where the platform's default is not the point. */
  scopes?: string[]
  /**
   * How a connection is made: a person approves and pastes the code the consent page shows
   * (`out-of-band`), the platform redirects to a callback (`redirect`), or no person at all (`direct`).
   */
  connect: 'out-of-band' | 'redirect' | 'direct'
  /** The path the demo's loopback callback listens on (`redirect`; default `/callback`). */
  callbackPath?: string
  /** Connect options the demo passes (by the provider's option names). */
  connectOptions?: Record<string, string>
  /** Connection metadata worth showing once connected (what post-connect steps kept). */
  metadata?: string[]
  /** One API call showing the connection works, and the part of its answer to print. */
  request?: {
    method?: 'GET' | 'POST'
    path: string
    params?: Record<string, string>
    json?: unknown
    /** What is printed, as `label: value`. */
    label: string
    /** Where the value sits in the answer (`rentals[].name`; `[]` maps over a list). */
    pick: string
  }
}

/** One emulated platform. Adding a platform is writing one of these (see CONTRIBUTING.md). */
export interface EmulatedPlatform<Name extends string = string> {
  /** The built-in provider it emulates, by its canonical name. */
  name: Name
  /** What people read: `innkeeper emulate`'s output and the demos (the provider's display name). */
  label: string
  /** More names `innkeeper emulate` and `startEmulator` accept (the provider's aliases). */
  aliases: readonly string[]
  /** How many consecutive ports it takes from `--port` (Booking Experts: app host and API host). */
  ports: number
  start(options?: EmulatorOptions): Promise<EmulatorHandle>
  /** The demo, given the running emulator's info (its organization, its base URL, …). */
  demo(info: EmulatorInfo): EmulatorDemo
}

/** Keeps a descriptor's name a literal type, so the list of platforms yields a union of names. */
export function defineEmulatedPlatform<const Name extends string>(
  platform: EmulatedPlatform<Name>,
): EmulatedPlatform<Name> {
  return platform
}
