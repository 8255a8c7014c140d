// Builds the authorization URL a person visits (RFC 6749 §4.1.1): client_id, redirect_uri,
// response_type=code, the scope list space-separated and encoded as %20 (as BookingSync's
// documentation spells it), state, and PKCE where the provider supports it.
import type { ProviderDefinition } from '../providers/schema.js'

export interface AuthorizationUrlInput {
  provider: ProviderDefinition
  authorizeUrl: string
  clientId: string
  redirectUri: string
  scopes: string[]
  state: string
  codeChallenge?: string
  /** Extra query parameters, e.g. BookingSync's `account_id`. */
  extraParams?: Record<string, string>
}

/** Form-style encoding with `%20` for spaces: URLSearchParams would write `+`. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

export function buildAuthorizationUrl(input: AuthorizationUrlInput): string {
  const params: Array<[string, string]> = [
    ['client_id', input.clientId],
    ['redirect_uri', input.redirectUri],
    ['response_type', 'code'],
  ]
  if (input.scopes.length > 0) params.push(['scope', input.scopes.join(input.provider.scopes.separator)])
  params.push(['state', input.state])
  if (input.codeChallenge) {
    params.push(['code_challenge', input.codeChallenge], ['code_challenge_method', 'S256'])
  }
  for (const [key, value] of Object.entries({
    ...input.provider.authorization.params,
    ...input.extraParams,
  })) {
    params.push([key, value])
  }
  const url = new URL(input.authorizeUrl)
  const existing = url.search.length > 1 ? `${url.search.slice(1)}&` : ''
  url.search = existing + params.map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&')
  return url.href
}
