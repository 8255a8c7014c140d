// Sends one token request (RFC 6749 §4.1.3, §4.4, §6) and returns the normalised token set.
// Client authentication, extra parameters and the empty-secret case come from the provider
// definition. Network failures, timeouts and 5xx become `provider_unavailable`; a 429 becomes
// `rate_limited` with the wait the provider asked for.
import { TokenEndpointError } from '../errors.js'
import type { TokenSet } from '../model/token-set.js'
import type { Grant, ProviderDefinition } from '../providers/schema.js'
import { MAX_BODY_BYTES, parseJsonObject } from './body.js'
import { parseRetryAfter, tokenEndpointError } from './errors.js'
import { type FormAnswer, FormPostError, postForm } from './form-post.js'
import { normaliseTokenResponse } from './token-response.js'

export interface TokenRequestInput {
  provider: ProviderDefinition
  tokenUrl: string
  clientId: string
  clientSecret: string
  grant: Grant
  /** Grant parameters: code + redirect_uri, refresh_token, scope, plus provider extras already filled. */
  params: Record<string, string | undefined>
  now: () => number
  previous?: TokenSet | null
  timeoutMs?: number
}

export const DEFAULT_TOKEN_TIMEOUT_MS = 15_000

function basicCredentials(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: form-encode each part before joining.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')
}

export async function requestToken(input: TokenRequestInput): Promise<TokenSet> {
  const { provider, grant } = input
  const form = new URLSearchParams({ grant_type: grant })
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'user-agent': 'Innkeeper-OAuth/1',
  }
  const authentication = provider.clientAuthenticationByGrant[grant] ?? provider.clientAuthentication
  if (authentication === 'client_secret_basic' && input.clientSecret) {
    headers.authorization = `Basic ${basicCredentials(input.clientId, input.clientSecret)}`
  } else {
    form.set('client_id', input.clientId)
    // bookingtime's Module API: "the client secret must be omitted or empty"; `none`: never sent.
    if (authentication !== 'none' && input.clientSecret) form.set('client_secret', input.clientSecret)
  }
  for (const [key, value] of Object.entries(input.params)) {
    if (value !== undefined && value !== '') form.set(key, value)
  }

  const secrets = [
    input.clientSecret,
    input.params.code,
    input.params.refresh_token,
    input.params.code_verifier,
  ]
  let answer: FormAnswer
  try {
    answer = await postForm(new URL(input.tokenUrl), {
      headers,
      body: form.toString(),
      timeoutMs: input.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS,
      maxBytes: MAX_BODY_BYTES,
    })
  } catch (error) {
    const kind = error instanceof FormPostError ? error.kind : 'unreachable'
    throw new TokenEndpointError(
      'provider_unavailable',
      kind === 'dropped'
        ? `${provider.displayName}'s token endpoint dropped the connection while answering. Innkeeper retries with backoff.`
        : `${provider.displayName}'s token endpoint ${kind === 'timeout' ? 'did not answer in time' : 'could not be reached'}. Innkeeper retries with backoff; check the network and the token URL.`,
      { cause: kind === 'timeout' ? undefined : sanitizeCause(error) },
    )
  }

  const now = input.now()
  if (answer.status < 200 || answer.status > 299) {
    const json = answer.truncated ? undefined : parseJsonObject(answer.text)
    throw tokenEndpointError(answer.status, json, answer.text, {
      provider: provider.displayName,
      grant,
      retryAfterSeconds: parseRetryAfter(answer.header('retry-after') ?? null, now),
      secrets,
    })
  }
  if (answer.truncated) {
    throw new TokenEndpointError(
      'invalid_response',
      `${provider.displayName}'s token endpoint answered with a body over 1 MiB, not a token. Check the token URL.`,
    )
  }
  return normaliseTokenResponse(parseJsonObject(answer.text), answer.text, {
    provider,
    grant,
    now,
    previous: input.previous,
  })
}

/** Keeps the error's kind and network code, never its message (it may quote the URL or body). */
function sanitizeCause(error: unknown): Error {
  const code = error instanceof FormPostError ? error.networkCode : undefined
  return new Error(code ? `network error ${code}` : 'network error')
}
