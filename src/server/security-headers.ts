// The security headers on every response: helmet's policy (a strict Content-Security-Policy,
// nosniff, no-referrer, COOP/CORP, HSTS behind HTTPS …), computed once when the server starts,
// since none of them depends on the request. A CSP nonce is made only where a page carries an
// inline script (`scriptNonce`): a JSON answer or a page without one has nothing for it to allow,
// so the token API pays nothing for it.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import helmet from 'helmet'

export interface SecurityHeaderOptions {
  /** The public URL is HTTPS: HSTS and `upgrade-insecure-requests` are sent. */
  httpsOnly: boolean
}

/** The headers helmet sets for this server's policy, as name → value. */
export function securityHeaders({ httpsOnly }: SecurityHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  const middleware = helmet({
    // Frame protection comes from CSP `frame-ancestors`, which the connect page widens.
    frameguard: false,
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'form-action': ["'self'"],
        'frame-ancestors': ["'self'"],
        'upgrade-insecure-requests': httpsOnly ? [] : null,
      },
    },
    hsts: httpsOnly,
  })
  // Every directive is a constant, so helmet reads nothing of the request.
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error
  })
  return headers
}

/**
 * Sends the headers on every response, the 421 of a refused host and errors included: the
 * first hook, so no other hook's answer goes out without them.
 */
export function addSecurityHeaders(app: FastifyInstance, options: SecurityHeaderOptions): void {
  const headers = securityHeaders(options)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}

/**
 * A fresh nonce for one inline `<script nonce="…">` of this page, added to the response's
 * `script-src` (after any other change a route made to the policy).
 */
export function scriptNonce(reply: FastifyReply): string {
  const nonce = randomBytes(16).toString('hex')
  const policy = String(reply.getHeader('content-security-policy') ?? '')
  reply.header(
    'content-security-policy',
    policy.replace(/(^|;)\s*script-src([^;]*)/, `$1script-src$2 'nonce-${nonce}'`),
  )
  return nonce
}
