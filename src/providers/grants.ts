// The OAuth grants a provider definition names, and which of them make a connection. Kept apart
// from schema.ts so that code reading definitions does not load zod, which only validates them.

export const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const
export type Grant = (typeof GRANTS)[number]
/** The grants that make a connection (a refresh token only keeps one alive). */
export const CONNECT_GRANTS = ['authorization_code', 'client_credentials'] as const
export type ConnectGrant = (typeof CONNECT_GRANTS)[number]

/** The grant fields of a provider definition (schema.ts), all `connectGrantsOf` reads. */
export interface ProviderGrants {
  connect: ConnectGrant
  connectGrants?: readonly ConnectGrant[]
  grants: readonly Grant[]
}

/** The grants a provider connects with, its default first. */
export function connectGrantsOf(provider: ProviderGrants): ConnectGrant[] {
  const offered =
    provider.connectGrants ??
    provider.grants.filter((grant): grant is ConnectGrant => grant !== 'refresh_token')
  return [...new Set([provider.connect, ...offered])]
}
