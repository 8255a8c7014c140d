// Sends one token request (RFC 6749 §4.1.3, §4.4, §6) and returns the normalised token set.
// Client authentication, extra parameters and the empty-secret case come from the provider
// definition. Network failures, timeouts and 5xx become `provider_unavailable`; a 429 becomes
// `rate_limited` with the wait the provider asked for.
import { TokenEndpointError } from '../errors.js'
import { requestDeadline } from '../http/limits.js'
import type { TokenSet } from '../model/token-set.js'
import type { Grant, ProviderDefinition } from '../providers/schema.js'
import { readBody } from './body.js'
import { parseRetryAfter, tokenEndpointError } from './errors.js'
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
  // One deadline for the headers and the body.
  const deadline = requestDeadline(input.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS)
  try {
    return await sendTokenRequest(input, headers, form, secrets, deadline.signal)
  } finally {
    deadline.done()
  }
}

async function sendTokenRequest(
  input: TokenRequestInput,
  headers: Record<string, string>,
  form: URLSearchParams,
  secrets: (string | undefined)[],
  signal: AbortSignal,
): Promise<TokenSet> {
  const { provider, grant } = input
  let response: Response
  try {
    response = await fetch(input.tokenUrl, {
      method: 'POST',
      headers,
      body: form,
      redirect: 'manual',
      signal,
    })
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
    throw new TokenEndpointError(
      'provider_unavailable',
      `${provider.displayName}'s token endpoint ${timedOut ? 'did not answer in time' : 'could not be reached'}. Innkeeper retries with backoff; check the network and the token URL.`,
      { cause: timedOut ? undefined : sanitizeCause(error) },
    )
  }

  let body: Awaited<ReturnType<typeof readBody>>
  try {
    body = await readBody(response)
  } catch (error) {
    throw new TokenEndpointError(
      'provider_unavailable',
      `${provider.displayName}'s token endpoint dropped the connection while answering. Innkeeper retries with backoff.`,
      { cause: sanitizeCause(error) },
    )
  }
  const now = input.now()
  if (!response.ok) {
    throw tokenEndpointError(response.status, body.json, body.text, {
      provider: provider.displayName,
      grant,
      retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), now),
      secrets,
    })
  }
  if (body.truncated) {
    throw new TokenEndpointError(
      'invalid_response',
      `${provider.displayName}'s token endpoint answered with a body over 1 MiB, not a token. Check the token URL.`,
    )
  }
  return normaliseTokenResponse(body.json, body.text, { provider, grant, now, previous: input.previous })
}

/** Keeps the error's kind and network code, never its message (undici may quote the URL or body). */
function sanitizeCause(error: unknown): Error {
  const code = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code
  return new Error(code ? `network error ${code}` : 'network error')
}
