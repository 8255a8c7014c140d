// The OAuth protocol layer: authorization URLs, token requests, answer normalisation, error parsing.

export type { TokenSet } from '../model/token-set.js'
export { type AuthorizationUrlInput, buildAuthorizationUrl } from './authorize.js'
export { MAX_BODY_BYTES, parseJsonObject, readBody } from './body.js'
export { apiError, excerpt, parseBearerChallenge, parseRetryAfter, tokenEndpointError } from './errors.js'
export { createPkcePair, createState, type PkcePair } from './pkce.js'
export { DEFAULT_TOKEN_TIMEOUT_MS, requestToken, type TokenRequestInput } from './token-request.js'
export { jwtExpiry, type NormaliseContext, normaliseTokenResponse } from './token-response.js'
