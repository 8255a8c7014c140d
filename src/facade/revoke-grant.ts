// The platform side of `disconnect`: revokes the grant where the app has a revocation endpoint
// (RFC 7009). The revocation code is loaded only by a disconnect.
import type { ResolvedApp } from '../connections/context.js'
import { isApiKeyConnection } from '../connections/credential.js'
import type { ConnectionRecord } from '../stores/store.js'

export interface GrantRevocation {
  revoked: boolean
  /** The app has an endpoint that can end this grant (an API key is revoked on the platform only). */
  revocationEndpoint: boolean
  revocationError?: string
}

export async function revokeGrant(app: ResolvedApp, record: ConnectionRecord): Promise<GrantRevocation> {
  const revocationEndpoint = Boolean(app.endpoints.revokeUrl) && !isApiKeyConnection(record)
  const token = record.tokens?.refreshToken ?? record.tokens?.accessToken
  if (!app.endpoints.revokeUrl || !token || !revocationEndpoint) return { revoked: false, revocationEndpoint }
  try {
    const { revokeToken } = await import('../oauth/revoke.js')
    await revokeToken({
      provider: app.provider,
      revokeUrl: app.endpoints.revokeUrl,
      clientId: app.record.clientId,
      clientSecret: app.record.clientSecret,
      token,
      tokenTypeHint: record.tokens?.refreshToken ? 'refresh_token' : 'access_token',
      timeoutMs: app.limits.configured ? app.limits.timeoutMs : undefined,
    })
    return { revoked: true, revocationEndpoint }
  } catch (error) {
    const revocationError = error instanceof Error ? error.message : 'revocation failed'
    return { revoked: false, revocationEndpoint, revocationError }
  }
}
