// Registered OAuth applications: validated against their provider definition when added
// (provider name, required settings, HTTPS URLs, known scopes), stored with the secret encrypted.
import { ConfigError, InnkeeperError } from '../errors.js'
import { type AppSettings, refuseUrlCredentials } from '../providers/endpoints.js'
import { type ConnectGrant, connectGrantsOf } from '../providers/grants.js'
import { defaultProviders, type ProviderCatalogue } from '../providers/registry.js'
import type { AppRecord } from '../stores/store.js'
import { chooseScopes } from './connect-request.js'
import { APP_NAME } from './connection-id.js'
import { type KeeperContext, resolveApp } from './context.js'
import { normaliseReturnUrlAllowList, RETURN_URLS_SETTING, returnUrlAllowList } from './return-urls.js'

export interface AppInput {
  provider: string
  clientId: string
  /** May be empty where the provider allows it (bookingtime's Module API). */
  clientSecret?: string
  redirectUri?: string
  scopes?: string[]
  baseUrl?: string
  authorizeUrl?: string
  tokenUrl?: string
  apiUrl?: string
  /** The API base URL used when the client secret is empty (bookingtime's Module API). */
  moduleApiUrl?: string
  revokeUrl?: string
  /** Refresh at least this often even when idle (rotating providers whose grants die unused). */
  keepAliveSeconds?: number
  /** Where connect links may return the end user: origin + path prefix (see `return-urls.ts`). */
  returnUrls?: string[]
}

/** An app as shown to people and other services: never its secret. */
export interface AppInfo {
  name: string
  provider: string
  clientId: string
  hasClientSecret: boolean
  redirectUri: string | null
  scopes: string[]
  settings: AppSettings
  /** The default way to connect. */
  connectMode: ConnectGrant
  /** Every way this app may connect (`connect --grant`), the default first. */
  connectGrants: ConnectGrant[]
  /** The connect links' return-URL allow-list (origin + path prefix). */
  returnUrls: string[]
  createdAt: number
  updatedAt: number
}

const SETTING_KEYS = ['baseUrl', 'authorizeUrl', 'tokenUrl', 'apiUrl', 'moduleApiUrl', 'revokeUrl'] as const
const SETTING_NAMES: Record<(typeof SETTING_KEYS)[number], string> = {
  baseUrl: 'base URL',
  authorizeUrl: 'authorization URL',
  tokenUrl: 'token URL',
  apiUrl: 'API URL',
  moduleApiUrl: 'Module API URL',
  revokeUrl: 'revocation URL',
}

export function toAppInfo(record: AppRecord, providers: ProviderCatalogue = defaultProviders): AppInfo {
  const provider = providers.get(record.provider)
  return {
    name: record.name,
    provider: record.provider,
    clientId: record.clientId,
    hasClientSecret: record.clientSecret.length > 0,
    redirectUri: record.redirectUri ?? provider.authorization.defaultRedirectUri ?? null,
    scopes: record.scopes ?? provider.scopes.default,
    settings: { ...record.settings },
    connectMode: provider.connect,
    connectGrants: connectGrantsOf(provider),
    returnUrls: returnUrlAllowList(record.settings),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  }
}

export class Apps {
  constructor(private readonly ctx: KeeperContext) {}

  /** Registers (or replaces) an app; validation errors name what is missing or allowed. */
  async add(name: string, input: AppInput): Promise<AppInfo> {
    if (!APP_NAME.test(name)) {
      throw new ConfigError(
        'invalid_config',
        `"${name}" is not a valid app name: use letters, digits, ".", "_" or "-" (no "/").`,
      )
    }
    const provider = this.ctx.providers.get(input.provider)
    if (!input.clientId)
      throw new ConfigError(
        'invalid_config',
        'An app needs a client id (--client-id), as shown on the platform.',
      )
    const clientSecret = input.clientSecret ?? ''
    if (!clientSecret && !provider.clientSecretOptional) {
      throw new ConfigError(
        'invalid_config',
        `${provider.displayName} apps need a client secret (--client-secret-stdin).`,
      )
    }
    const settings: AppSettings = {}
    for (const key of SETTING_KEYS) {
      const value = input[key]
      if (!value) continue
      refuseUrlCredentials(value, SETTING_NAMES[key])
      settings[key] = value
    }
    if (input.redirectUri) refuseUrlCredentials(input.redirectUri, 'redirect URI')
    if (input.keepAliveSeconds) settings.keepAliveSeconds = String(input.keepAliveSeconds)
    const returnUrls = normaliseReturnUrlAllowList(input.returnUrls ?? [])
    if (returnUrls.length > 0) settings[RETURN_URLS_SETTING] = returnUrls.join(' ')
    const existing = await this.ctx.store.getApp(name)
    const now = this.ctx.now()
    const record: AppRecord = {
      name,
      provider: provider.name,
      clientId: input.clientId,
      clientSecret,
      redirectUri: input.redirectUri,
      scopes: input.scopes,
      settings,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    }
    // Fails early on missing settings, plain-HTTP URLs and unknown scopes.
    const resolved = resolveApp(record, this.ctx.limits, this.ctx.providers)
    if (input.scopes) chooseScopes(resolved, input.scopes)
    await this.ctx.store.putApp(record)
    this.ctx.forgetApp(name)
    return toAppInfo(record, this.ctx.providers)
  }

  /** Replaces an app's return-URL allow-list for connect links (an empty list allows none). */
  async setReturnUrls(name: string, urls: string[]): Promise<AppInfo> {
    const record = await this.ctx.store.getApp(name)
    if (!record) throw unknownApp(name)
    const returnUrls = normaliseReturnUrlAllowList(urls)
    const settings: AppSettings = { ...record.settings }
    if (returnUrls.length > 0) settings[RETURN_URLS_SETTING] = returnUrls.join(' ')
    else delete settings[RETURN_URLS_SETTING]
    const updated: AppRecord = { ...record, settings, updatedAt: this.ctx.now() }
    await this.ctx.store.putApp(updated)
    this.ctx.forgetApp(name)
    return toAppInfo(updated, this.ctx.providers)
  }

  async get(name: string): Promise<AppInfo> {
    const record = await this.ctx.store.getApp(name)
    if (!record) throw unknownApp(name)
    return toAppInfo(record, this.ctx.providers)
  }

  async list(): Promise<AppInfo[]> {
    return (await this.ctx.store.listApps()).map((record) => toAppInfo(record, this.ctx.providers))
  }

  /** Removes the app and every connection of it from the store (no revocation: see disconnect). */
  async remove(name: string): Promise<void> {
    if (!(await this.ctx.store.deleteApp(name))) throw unknownApp(name)
    this.ctx.forgetApp(name)
  }
}

export function unknownApp(name: string): InnkeeperError {
  return new InnkeeperError(
    'unknown_app',
    `There is no app named "${name}". List apps with \`innkeeper apps list\`.`,
  )
}
