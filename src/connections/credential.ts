// How a connection's credential goes on a request: an OAuth access token as
// `Authorization: Bearer …`, or a static API key in the header its provider declares
// (`apiKey.header` / `apiKey.format`, e.g. Booking Experts' `X-API-KEY`). API-key connections
// are told apart by the token type kept in their sealed token set, never by the provider.
import { InnkeeperError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { ProviderDefinition } from '../providers/schema.js'

/** The `tokenType` of an API key's token set (it has no expiry and no refresh token). */
export const API_KEY_TOKEN_TYPE = 'api_key'

/** The `grant` in an API-key connection's public metadata (its view carries no token set). */
export const API_KEY_GRANT = 'api_key'

export type CredentialKind = 'access_token' | 'api_key'

export function isApiKeyConnection(record: {
  tokens: Pick<TokenSet, 'tokenType'> | null | undefined
}): boolean {
  return record.tokens?.tokenType === API_KEY_TOKEN_TYPE
}

/**
 * The same question asked of the public view (dashboard, connection page), which has no token set:
 * `connectWithApiKey` is the one writer of `grant: 'api_key'`, and a key is never refreshed into
 * anything else.
 */
export function isApiKeyConnectionInfo(info: { metadata: Record<string, unknown> }): boolean {
  return info.metadata.grant === API_KEY_GRANT
}

export interface CredentialHeader {
  name: string
  value: string
}

/** The header that carries `token` for a connection of this kind on this provider. */
export function credentialHeader(
  provider: ProviderDefinition,
  tokens: Pick<TokenSet, 'tokenType'>,
  token: string,
): CredentialHeader {
  if (tokens.tokenType !== API_KEY_TOKEN_TYPE) {
    return { name: 'authorization', value: `${tokens.tokenType || 'Bearer'} ${token}` }
  }
  if (!provider.apiKey) {
    throw new InnkeeperError(
      'invalid_config',
      `The ${provider.displayName} provider definition no longer declares an API key header (apiKey). Add it back in a provider definition file, or connect with an authorization.`,
    )
  }
  return {
    name: provider.apiKey.header.toLowerCase(),
    value: provider.apiKey.format.split('{key}').join(token),
  }
}
