// The app settings that point Innkeeper at a running emulator: its test client and its URLs
// (BookyFlow's base URL, or the authorize/token/API/revocation URLs, bookingtime's Module API). Used by the demos, the
// tests and the benchmarks, so each registers emulated apps the same way.
import type { EmulatorInfo } from './platform.js'

export interface EmulatedAppSettings {
  clientId: string
  clientSecret: string
  baseUrl?: string
  authorizeUrl?: string
  tokenUrl?: string
  apiUrl?: string
  /** bookingtime: the Module API, used by an app whose secret is empty. */
  moduleApiUrl?: string
  revokeUrl?: string
}

export function appSettingsFor(info: EmulatorInfo): EmulatedAppSettings {
  const urls = info.baseUrl
    ? { baseUrl: info.baseUrl }
    : { authorizeUrl: info.authorizeUrl, tokenUrl: info.tokenUrl, apiUrl: info.apiUrl }
  return {
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    ...urls,
    ...(info.revokeUrl ? { revokeUrl: info.revokeUrl } : {}),
    ...(info.moduleApiUrl ? { moduleApiUrl: info.moduleApiUrl } : {}),
  }
}
