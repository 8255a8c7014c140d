// PKCE (RFC 7636) and `state` values, from oauth4webapi: no reason to hand-roll randomness or S256.
import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi'

export interface PkcePair {
  codeVerifier: string
  codeChallenge: string
  codeChallengeMethod: 'S256'
}

export async function createPkcePair(): Promise<PkcePair> {
  const codeVerifier = generateRandomCodeVerifier()
  return {
    codeVerifier,
    codeChallenge: await calculatePKCECodeChallenge(codeVerifier),
    codeChallengeMethod: 'S256',
  }
}

export function createState(): string {
  return generateRandomState()
}
