// Turns a provider definition plus an app's settings into the concrete URLs to call, checking
// required settings and refusing plain HTTP anywhere but loopback.
import { ConfigError } from '../errors.js'
import type { ProviderDefinition } from './schema.js'
import { fillTemplate } from './template.js'

/** URL overrides and provider settings an app may carry. */
export interface AppSettings {
  baseUrl?: string
  authorizeUrl?: string
  tokenUrl?: string
  apiUrl?: string
  /** The API base URL of an app without a client secret (bookingtime's Module API). */
  moduleApiUrl?: string
  revokeUrl?: string
  redirectUri?: string
  [key: string]: string | undefined
}

export interface AppEndpoints {
  authorizeUrl: string | undefined
  tokenUrl: string
  apiUrl: string
  revokeUrl: string | undefined
  /** Origins a token may be sent to: the API's and the provider's other hosts. */
  apiOrigins: string[]
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost')
}

/**
 * Refuses a URL that carries a user name or password (`https://user:pass@host`): settings are
 * stored and listed in clear, so credentials have no place in them. Nothing of the URL is echoed.
 */
export function refuseUrlCredentials(value: string | URL, what: string): void {
  let url: URL
  try {
    url = typeof value === 'string' ? new URL(value) : value
  } catch {
    return
  }
  if (url.username === '' && url.password === '') return
  throw new ConfigError(
    'insecure_url',
    `The ${what} carries a user name or password (user:password@host); Innkeeper refuses credentials in URLs because settings are stored and shown in clear. Give the URL without them (an app's secret goes in --client-secret-stdin).`,
    { details: { setting: what } },
  )
}

/** Parses a URL and insists on HTTPS unless it points at this machine, with no credentials in it. */
export function requireSecureUrl(value: string, what: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    // Not echoed: a malformed URL may still hold a password.
    throw new ConfigError('invalid_config', `The ${what} is not a valid URL. Give a full https:// URL.`)
  }
  refuseUrlCredentials(url, what)
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return url
  throw new ConfigError(
    'insecure_url',
    `The ${what} ${url.origin} is not HTTPS. Innkeeper sends credentials only over HTTPS (plain HTTP is allowed on loopback addresses only).`,
  )
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

export interface ResolveOptions {
  /** The app has no client secret (bookingtime's Module API): its API may live elsewhere. */
  withoutSecret?: boolean
}

/**
 * The API base URL: an app without a secret uses `moduleApiUrl`, then an explicit `apiUrl`,
 * then the provider's `urls.moduleApi`; every other app `apiUrl`, then `urls.api`.
 */
function apiUrlTemplate(
  provider: ProviderDefinition,
  settings: AppSettings,
  options: ResolveOptions,
): { override: string | undefined; template: string } {
  if (options.withoutSecret && provider.urls.moduleApi) {
    return {
      override: settings.moduleApiUrl ?? settings.apiUrl,
      template: provider.urls.moduleApi,
    }
  }
  return { override: settings.apiUrl, template: provider.urls.api }
}

export function resolveAppEndpoints(
  provider: ProviderDefinition,
  settings: AppSettings,
  options: ResolveOptions = {},
): AppEndpoints {
  const missing = Object.entries(provider.settings)
    .filter(([key, setting]) => setting.required && !settings[key])
    .map(([key, setting]) => `${key} (${setting.description})`)
  if (missing.length > 0) {
    throw new ConfigError(
      'invalid_config',
      `The ${provider.displayName} provider needs ${missing.join(' and ')}. Set ${missing.length > 1 ? 'them' : 'it'} when adding the app.`,
      {
        details: {
          provider: provider.name,
          missing: Object.keys(provider.settings).filter((k) => !settings[k]),
        },
      },
    )
  }
  const context = {
    app: { ...settings, baseUrl: settings.baseUrl ? stripSlash(settings.baseUrl) : undefined },
  }
  const pick = (override: string | undefined, template: string | undefined, what: string) => {
    const value = override ?? (template === undefined ? undefined : fillTemplate(template, context))
    return value === undefined ? undefined : stripSlash(requireSecureUrl(value, what).href)
  }
  const tokenUrl = pick(settings.tokenUrl, provider.urls.token, 'token URL')
  const api = apiUrlTemplate(provider, settings, options)
  const apiUrl = pick(api.override, api.template, 'API URL')
  if (!tokenUrl || !apiUrl) {
    throw new ConfigError(
      'invalid_config',
      `The ${provider.displayName} app needs a token URL and an API URL.`,
    )
  }
  const extra = provider.urls.extraHosts
    .map((template) => fillTemplate(template, context))
    .filter((value): value is string => value !== undefined)
  return {
    authorizeUrl: pick(settings.authorizeUrl, provider.urls.authorize, 'authorization URL'),
    tokenUrl,
    apiUrl,
    revokeUrl: pick(settings.revokeUrl, provider.urls.revoke, 'revocation URL'),
    apiOrigins: [...new Set([apiUrl, ...extra].map((url) => new URL(url).origin))],
  }
}
