// Token material in each platform's look: opaque hex (Doorkeeper), opaque base64url, and signed
// JWTs (`header.payload.signature`, HS256 with a key that lives only as long as the emulator).
import { createHash, createHmac, randomBytes } from 'node:crypto'

export function opaqueHexToken(bytes = 32): string {
  return randomBytes(bytes).toString('hex')
}

export function opaqueBase64UrlToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url')
}

/** A short, stable, non-reversible name for a token, safe to print and to key stats by. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16)
}

export class JwtSigner {
  private readonly key = randomBytes(32)

  sign(claims: Record<string, unknown>): string {
    const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256' })).toString('base64url')
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
    const signature = createHmac('sha256', this.key).update(`${header}.${payload}`).digest('base64url')
    return `${header}.${payload}.${signature}`
  }
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1]
  if (!payload) throw new Error('not a JWT')
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
}
