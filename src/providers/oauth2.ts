// Any standard OAuth 2.0 provider (RFC 6749 + PKCE): every URL comes from the app's settings.
import { builtInProvider } from './built-in.js'

export const oauth2 = builtInProvider({
  name: 'oauth2',
  aliases: ['generic'],
  displayName: 'Generic OAuth 2.0',
  settings: {
    authorizeUrl: { description: 'the authorization endpoint (for the authorization code flow)' },
    tokenUrl: { description: 'the token endpoint', required: true },
    apiUrl: { description: 'the base URL of the API', required: true },
  },
  urls: {
    authorize: '{app.authorizeUrl}',
    token: '{app.tokenUrl}',
    api: '{app.apiUrl}',
  },
  connect: 'authorization_code',
  grants: ['authorization_code', 'refresh_token', 'client_credentials'],
  clientAuthentication: 'client_secret_post',
  authorization: { pkce: true },
  tokenResponse: { expiryFromJwt: true },
  refresh: { rotates: true, renewWith: 'refresh_token' },
})
