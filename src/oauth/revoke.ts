// Token revocation (RFC 7009), for providers that offer it: used by `disconnect`.
import { TokenEndpointError } from '../errors.js'
import type { ProviderDefinition } from '../providers/schema.js'
import { readBody } from './body.js'
import { tokenEndpointError } from './errors.js'

export interface RevokeInput {
  provider: ProviderDefinition
  revokeUrl: string
  clientId: string
  clientSecret: string
  token: string
  tokenTypeHint: 'refresh_token' | 'access_token'
  timeoutMs?: number
}

export async function revokeToken(input: RevokeInput): Promise<void> {
  const form = new URLSearchParams({
    token: input.token,
    token_type_hint: input.tokenTypeHint,
    client_id: input.clientId,
  })
  if (input.clientSecret) form.set('client_secret', input.clientSecret)
  let response: Response
  try {
    response = await fetch(input.revokeUrl, {
      method: 'POST',
      body: form,
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs ?? 15_000),
    })
  } catch {
    throw new TokenEndpointError(
      'provider_unavailable',
      `${input.provider.displayName}'s revocation endpoint could not be reached.`,
    )
  }
  const body = await readBody(response, 64 * 1024)
  // RFC 7009 §2.2: 200 also for tokens that were already invalid.
  if (!response.ok) {
    throw tokenEndpointError(response.status, body.json, body.text, {
      provider: input.provider.displayName,
      grant: 'revocation',
      secrets: [input.token, input.clientSecret],
    })
  }
}
