// BookyFlow (docs/platforms/bookyflow.md): self-hosted, so every URL derives from a required base URL; client
// credentials with required scopes, 1-hour tokens and no refresh token; the Channel Management
// Framework needs a channel announce and the `X-BOOKYFLOW-channel-name` header afterwards;
// paths carry `@variable` placeholders.
import { builtInProvider } from './built-in.js'

export const bookyflow = builtInProvider({
  name: 'bookyflow',
  displayName: 'BookyFlow',
  docsUrl: 'https://bookyflow.com/docs/api/authentication',
  settings: {
    baseUrl: {
      description: 'the address of your BookyFlow installation, e.g. https://yourdomain.com',
      required: true,
    },
  },
  urls: {
    token: '{app.baseUrl}/bookyflow/api/oauth/token',
    api: '{app.baseUrl}/bookyflow/api',
  },
  connect: 'client_credentials',
  grants: ['client_credentials'],
  clientAuthentication: 'client_secret_post',
  // "Scopes are defined in each API plugin's scopes.json file": the three below are only the
  // common ones, so any other well-formed scope is passed on and BookyFlow decides.
  scopes: {
    default: ['read'],
    known: ['read', 'write', 'delete'],
    unknown: 'allow',
    requiredForClientCredentials: true,
  },
  // "Tokens expire after 1 hour; request a new token when needed": renewed on use, never ahead.
  refresh: { rotates: false, renewWith: 'client_credentials', proactive: 'on-use' },
  api: {
    headers: { accept: 'application/json', 'X-BOOKYFLOW-channel-name': '{metadata.channel}' },
    placeholderStyle: 'at',
  },
  connectOptions: [
    { name: 'channel', flag: 'channel', description: 'announce this channel (Channel Management Framework)' },
  ],
  postConnect: [
    {
      name: 'channel announce',
      when: 'channel',
      method: 'POST',
      path: '/cmf/announce',
      body: { channel_name: '{options.channel}' },
      save: { channel: '{options.channel}' },
      // "After obtaining a token you must announce your channel": every token, not only the
      // first, in case the platform ties the channel to the token (the announce is idempotent).
      afterEveryToken: true,
    },
  ],
})
