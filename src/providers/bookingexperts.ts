// Booking Experts (docs/platforms/bookingexperts.md): authorization code with a real redirect URL, `/v3/subscription`
// fetched and kept right after install, JSON:API with `accept-language`, and a refresh answer
// that says `expires` instead of `expires_in`.
import { builtInProvider } from './built-in.js'

export const bookingexperts = builtInProvider({
  name: 'bookingexperts',
  aliases: ['booking-experts'],
  displayName: 'Booking Experts',
  docsUrl: 'https://developers.bookingexperts.com/',
  urls: {
    authorize: 'https://app.bookingexperts.nl/oauth/authorize',
    // The platform's documentation posts to app.bookingexperts.nl and also names the API host's /oauth/token.
    token: 'https://app.bookingexperts.nl/oauth/token',
    revoke: 'https://app.bookingexperts.nl/oauth/revoke',
    api: 'https://api.bookingexperts.nl',
    extraHosts: ['https://app.bookingexperts.nl'],
  },
  connect: 'authorization_code',
  grants: ['authorization_code', 'refresh_token'],
  clientAuthentication: 'client_secret_post',
  // "When a user installs an app, … your redirect URL will be called with a code in the query
  // string and nothing else": installs from the App Store carry no state.
  authorization: { pkce: false, installCallbacks: true, installNameFrom: 'subscriptionId' },
  tokenResponse: { expiresInAliases: ['expires'] },
  // Keep-alive: an idle grant is refreshed at least daily, so a rotating refresh token never goes stale.
  // Tokens are renewed ahead of use for connections used in the last day, an idle one only by its
  // keep-alive: our choice, docs/platforms/bookingexperts.md.
  refresh: {
    rotates: true,
    renewWith: 'refresh_token',
    keepAliveSeconds: 86_400,
    proactive: 'when-used-within',
    usedWithin: '24h',
  },
  api: {
    headers: { accept: 'application/vnd.api+json', 'accept-language': 'en,nl' },
  },
  // "For quick result needs you can make use of an API key". The header is not in the platform's
  // OAuth documentation: its public API docs send `x-api-key: API_KEY` (docs/platforms/bookingexperts.md).
  apiKey: { header: 'X-API-KEY', format: '{key}', verifyPath: '/v3/administrations' },
  postConnect: [
    {
      name: 'subscription',
      method: 'GET',
      path: '/v3/subscription',
      extract: {
        subscriptionId: 'data.id',
        administrationIds: 'data.relationships.administrations.data[].id',
        returnUrl: 'data.attributes.return_url',
      },
    },
  ],
})
