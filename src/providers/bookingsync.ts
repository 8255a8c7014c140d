// BookingSync API v3, also sold as Smily (docs/platforms/bookingsync.md). Doorkeeper-based:
// authorization code with the out-of-band redirect, 2-hour tokens, refresh tokens that rotate
// on every refresh, and the first step's `redirect_uri` repeated on refresh.
import { builtInProvider } from './built-in.js'

export const bookingsync = builtInProvider({
  name: 'bookingsync',
  aliases: ['smily'],
  displayName: 'BookingSync (Smily)',
  docsUrl: 'https://developers.bookingsync.com/guides/authorization/',
  urls: {
    authorize: 'https://www.bookingsync.com/oauth/authorize',
    token: 'https://www.bookingsync.com/oauth/token',
    // No `revoke`: the platform documents no revocation endpoint, only the owner's uninstall. Where
    // one exists for an app, set it with `--revoke-url` or a provider definition file.
    api: 'https://www.bookingsync.com/api/v3',
  },
  // "This authorization can only be revoked if the account owner uninstall[s] your application."
  ownerRevocation:
    'Only the account owner can revoke it, by uninstalling the application in BookingSync (Smily).',
  connect: 'authorization_code',
  grants: ['authorization_code', 'refresh_token', 'client_credentials'],
  clientAuthentication: 'client_secret_post',
  authorization: { defaultRedirectUri: 'urn:ietf:wg:oauth:2.0:oob', pkce: false },
  scopes: {
    default: ['public'],
    implicit: ['public'],
    // "A token limited to the public scope that reads resources of every account" (docs/platforms/bookingsync.md).
    forClientCredentials: ['public'],
    known: [
      'public',
      'bookings_read',
      'bookings_write',
      'bookings_write_owned',
      'clients_read',
      'clients_write',
      'inquiries_read',
      'inquiries_write',
      'inquiries_write_owned',
      'payments_read',
      'payments_write',
      'payments_write_owned',
      'rates_read',
      'rates_write',
      'rentals_read',
      'rentals_write',
      'reviews_write',
    ],
    // The list is the documented one; BookingSync may add scopes, so an unlisted one is sent with a
    // warning and the platform decides (it answers `invalid_scope` to one it does not know).
    unknown: 'warn',
  },
  // "The refresh request must carry the same redirect_uri as the first step" (the documented
  // refresh example repeats it): the one this connection was authorized with.
  tokenParams: { refresh_token: { redirect_uri: '{connection.redirectUri}' } },
  // Keep-alive: an idle grant is refreshed at least daily, so a rotating refresh token never goes stale.
  // Tokens are renewed ahead of use for connections used in the last day; an idle one only by its
  // keep-alive ("you only need this single step to get a valid access_token if the one you have is
  // expired"): our choice, docs/platforms/bookingsync.md.
  refresh: {
    rotates: true,
    renewWith: 'refresh_token',
    keepAliveSeconds: 86_400,
    proactive: 'when-used-within',
    usedWithin: '24h',
  },
  connectOptions: [
    {
      name: 'accountId',
      flag: 'account',
      description: 'pre-select the BookingSync account asked to authorize',
      authorizeParam: 'account_id',
    },
  ],
  api: { headers: { accept: 'application/vnd.api+json' } },
})
