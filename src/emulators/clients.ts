// The OAuth clients an emulator knows: registered redirect URIs (with RFC 8252 loopback on any
// port), and client authentication by client_secret_post or HTTP Basic (RFC 6749 §2.3.1).
import { timingSafeEqual } from 'node:crypto'
import { OAuthError } from './oauth-error.js'

export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob'

export interface EmulatorClient {
  id: string
  /** null: a public client that sends no secret (bookingtime's Module API). */
  secret: string | null
  redirectUris: string[]
  /** Any `http://127.0.0.1:*`, `http://localhost:*` or `http://[::1]:*` URL is accepted. */
  allowLoopbackRedirects: boolean
  /** Free-form role a platform uses (`app`, `module`). */
  kind: string
}

export interface ClientRegistration {
  id: string
  secret?: string | null
  redirectUris?: string[]
  allowLoopbackRedirects?: boolean
  kind?: string
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

function isLoopbackHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' && LOOPBACK.has(url.hostname)
  } catch {
    return false
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

export class ClientRegistry {
  private readonly clients = new Map<string, EmulatorClient>()
  private readonly originalSecrets = new Map<string, string | null>()

  constructor(private readonly extraRedirectUris: () => string[] = () => []) {}

  register(registration: ClientRegistration): EmulatorClient {
    const client: EmulatorClient = {
      id: registration.id,
      secret: registration.secret === undefined ? null : registration.secret,
      redirectUris: registration.redirectUris ?? [OOB_REDIRECT_URI],
      allowLoopbackRedirects: registration.allowLoopbackRedirects ?? true,
      kind: registration.kind ?? 'app',
    }
    this.clients.set(client.id, client)
    return client
  }

  /** Gives a client a new secret (the platform rotated it); `restoreSecrets` undoes it. */
  setSecret(client: EmulatorClient, secret: string): void {
    if (!this.originalSecrets.has(client.id)) this.originalSecrets.set(client.id, client.secret)
    client.secret = secret
  }

  restoreSecrets(): void {
    for (const [id, secret] of this.originalSecrets) {
      const client = this.clients.get(id)
      if (client) client.secret = secret
    }
    this.originalSecrets.clear()
  }

  get(id: string | undefined): EmulatorClient | undefined {
    return id === undefined ? undefined : this.clients.get(id)
  }

  isRedirectAllowed(client: EmulatorClient, redirectUri: string): boolean {
    if (client.redirectUris.includes(redirectUri)) return true
    if (this.extraRedirectUris().includes(redirectUri)) return true
    return client.allowLoopbackRedirects && isLoopbackHttpUrl(redirectUri)
  }

  /**
   * Identifies and authenticates the client of a token request. `secretRequired: false` lets a
   * confidential client present only its id; a given secret is still checked. `secretRefused`
   * insists on the id alone (bookingtime's refresh step): any secret is an invalid request.
   */
  authenticate(
    params: Record<string, string>,
    authorization: string | undefined,
    options: { secretRequired: boolean; secretRefused?: boolean },
  ): EmulatorClient {
    if (options.secretRefused && (params.client_secret !== undefined || authorization)) {
      throw new OAuthError(
        'invalid_request',
        'This request takes client_id alone: do not send client_secret or Basic credentials.',
      )
    }
    let id = params.client_id
    let secret = params.client_secret
    const usedBasic = authorization?.toLowerCase().startsWith('basic ') ?? false
    const challenge = usedBasic ? { 'www-authenticate': 'Basic realm="OAuth"' } : undefined
    const refuse = (description: string) =>
      new OAuthError('invalid_client', description, challenge ? { headers: challenge } : {})
    if (usedBasic && authorization) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) throw refuse('Client authentication failed: malformed Basic credentials.')
      let basicId: string
      try {
        basicId = formDecode(decoded.slice(0, colon))
        secret = formDecode(decoded.slice(colon + 1))
      } catch {
        throw refuse('Client authentication failed: malformed Basic credentials.')
      }
      if (params.client_secret !== undefined) {
        throw new OAuthError(
          'invalid_request',
          'The client used more than one authentication method (Basic and client_secret).',
        )
      }
      if (id !== undefined && id !== basicId) {
        throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials.')
      }
      id = basicId
    }
    if (!id) throw refuse('Client authentication failed: no client_id was sent.')
    const client = this.clients.get(id)
    if (!client) throw refuse('Client authentication failed: unknown client.')
    if (client.secret === null) {
      if (secret) throw refuse('Client authentication failed: this client has no secret; send an empty one.')
      return client
    }
    if (!secret) {
      if (options.secretRequired) throw refuse('Client authentication failed: client_secret is missing.')
      return client
    }
    if (!sameSecret(client.secret, secret)) throw refuse('Client authentication failed: wrong client secret.')
    return client
  }
}
