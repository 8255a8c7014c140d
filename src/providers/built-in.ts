// `builtInProvider`: a built-in definition with the schema's defaults filled in, without loading
// zod at start-up (zod alone takes about as long as starting Node). The built-ins are validated
// by test/providers/built-in.test.ts instead: schema.ts's parse of each must change nothing,
// so a default missing here or a field out of shape fails there. User definitions (files,
// `Innkeeper.open({ providers })`, `defineProvider`) are still parsed by the schema.
import type { ProviderDefinition, ProviderDefinitionInput } from './schema.js'

type Output = ProviderDefinition

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]))
}

export function builtInProvider(input: ProviderDefinitionInput): ProviderDefinition {
  const definition = {
    ...input,
    aliases: input.aliases ?? [],
    settings: mapValues(input.settings ?? {}, (setting) => ({ required: false, ...setting })),
    urls: { ...input.urls, extraHosts: input.urls.extraHosts ?? [] },
    connectNotices: input.connectNotices ?? {},
    clientAuthentication: input.clientAuthentication ?? 'client_secret_post',
    clientAuthenticationByGrant: input.clientAuthenticationByGrant ?? {},
    clientSecretOptional: input.clientSecretOptional ?? false,
    authorization: { pkce: false, params: {}, installCallbacks: false, ...input.authorization },
    scopes: {
      default: [],
      known: [],
      unknown: 'warn',
      implicit: [],
      requiredForClientCredentials: false,
      separator: ' ',
      ...input.scopes,
    },
    tokenParams: input.tokenParams ?? {},
    tokenResponse: {
      expiresInAliases: [],
      expiryFromJwt: false,
      refreshTokenOnlyGrants: [],
      ...input.tokenResponse,
    },
    refresh: {
      rotates: false,
      previousTokenGrace: false,
      renewWith: 'refresh_token',
      proactive: 'always',
      ...input.refresh,
    },
    api: { headers: {}, placeholderStyle: 'braces', publicPaths: [], ...input.api },
    ...(input.apiKey ? { apiKey: { format: '{key}', ...input.apiKey } } : {}),
    connectOptions: (input.connectOptions ?? []).map((option) => ({ required: false, ...option })),
    postConnect: (input.postConnect ?? []).map((step) => ({
      method: 'GET',
      extract: {},
      save: {},
      afterEveryToken: false,
      ...step,
    })),
  }
  return definition as Output
}
