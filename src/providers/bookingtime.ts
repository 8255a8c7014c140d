// bookingtime (docs/platforms/bookingtime.md): both grants answer first with a *refresh* token (a 30-day JWT), which
// is exchanged with an `organization_id` for a 5-minute access token whose `expires_in` is a
// string. The Module API uses the same flow with an empty client secret.
import { builtInProvider } from './built-in.js'

export const bookingtime = builtInProvider({
  name: 'bookingtime',
  displayName: 'bookingtime',
  docsUrl: 'https://developer.bookingtime.com/',
  urls: {
    // Not in the platform's documentation: our assumption, beside the documented token endpoint. The app setting
    // `authorizeUrl` (`apps add --authorize-url`) overrides it.
    authorize: 'https://auth.bookingtime.com/oauth/authorize',
    token: 'https://auth.bookingtime.com/oauth/token',
    api: 'https://api.bookingtime.com/app/v3',
    // Not in the platform's documentation (it says Module API requests "work analog"): our assumption by analogy
    // with `/app/v3`; the app setting `moduleApiUrl` overrides it.
    moduleApi: 'https://api.bookingtime.com/module/v3',
    extraHosts: ['https://api.bookingtime.com'],
  },
  // App Authentication (client credentials) by default, User Authentication (authorization
  // code) with `connect --grant authorization_code`: the platform's documentation offers both.
  connect: 'client_credentials',
  connectGrants: ['client_credentials', 'authorization_code'],
  connectNotices: {
    client_credentials:
      'bookingtime recommends client credentials only for prototypes: "The use of the Client Credential Flow may not be allowed for your use case." For a customer\'s organization, connect with --grant authorization_code (a person approves).',
  },
  grants: ['client_credentials', 'authorization_code', 'refresh_token'],
  clientAuthentication: 'client_secret_post',
  // The documented exchange sends client_id, refresh_token and organization_id, and nothing else.
  clientAuthenticationByGrant: { refresh_token: 'none' },
  clientSecretOptional: true,
  authorization: { pkce: false },
  tokenParams: { refresh_token: { organization_id: '{metadata.organizationId}' } },
  tokenResponse: {
    expiryFromJwt: true,
    refreshTokenOnlyGrants: ['client_credentials', 'authorization_code'],
    refreshTokenLifetime: 2_592_000,
  },
  // A 5-minute access token costs one exchange: renewed when asked for, never ahead of use (our
  // choice, docs/platforms/bookingtime.md); the 30-day refresh token of a client-credentials
  // connection is still renewed ahead of its end, used or not.
  refresh: {
    rotates: false,
    renewWith: 'refresh_token',
    refreshTokenRenewal: 'client_credentials',
    proactive: 'on-use',
  },
  api: { headers: { accept: 'application/json' } },
  connectOptions: [
    {
      name: 'organizationId',
      flag: 'organization',
      description: 'the organization the access token is for',
      required: true,
    },
  ],
})
