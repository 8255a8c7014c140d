// One webhook POST over node:http(s), with keep-alive agents per dispatcher, a time limit, no
// redirects followed, and (unless private receivers are allowed) the address policy applied to
// the very connection: address literals are checked before connecting, names through a `lookup`
// that refuses private answers and pins the checked address. Failures come back as a short
// class ("connection refused", "timeout", "HTTP 500"), never with addresses, ports or bodies.
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import ipaddr from 'ipaddr.js'
import { isPublicAddress, publicOnlyLookup, RefusedAddressError, type Resolver } from './address-policy.js'

export interface PostOptions {
  headers: Record<string, string>
  body: string
  timeoutMs: number
  /** Deliver to private, loopback and link-local addresses too (operator's choice). */
  allowPrivateAddresses: boolean
  resolver?: Resolver
}

/** What a delivery attempt came to: a status, or the class of failure. */
export type PostOutcome = { status: number } | { failure: string }

export class WebhookPoster {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 })
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 16 })

  async post(target: string, options: PostOptions): Promise<PostOutcome> {
    let url: URL
    try {
      url = new URL(target)
    } catch {
      return { failure: 'invalid URL' }
    }
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (!options.allowPrivateAddresses && ipaddr.isValid(host) && !isPublicAddress(host))
      return { failure: 'address not allowed' }
    const secure = url.protocol === 'https:'
    if (!secure && url.protocol !== 'http:') return { failure: 'invalid URL' }
    const send = secure ? httpsRequest : httpRequest
    return new Promise<PostOutcome>((resolve) => {
      let settled = false
      const finish = (outcome: PostOutcome) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(outcome)
      }
      const outgoing = send(url, {
        method: 'POST',
        agent: secure ? this.https : this.http,
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        ...(options.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup(options.resolver) }),
      })
      const timer = setTimeout(() => {
        outgoing.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))
      }, options.timeoutMs)
      outgoing.on('response', (response) => {
        // The body is not ours to read; drain it so the socket can be reused.
        response.resume()
        response.on('error', () => undefined)
        finish({ status: response.statusCode ?? 0 })
      })
      outgoing.on('error', (error) => finish({ failure: failureClass(error) }))
      outgoing.end(options.body)
    })
  }

  close(): void {
    this.http.destroy()
    this.https.destroy()
  }
}

/** The class of a failed attempt: enough to act on, too little to map a network with. */
export function failureClass(error: unknown): string {
  if (error instanceof RefusedAddressError) return 'address not allowed'
  const code = String((error as { code?: unknown })?.code ?? '')
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'timeout'
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'connection reset'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL')
    return 'DNS lookup failed'
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN') return 'unreachable'
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL/.test(code)) return 'TLS error'
  return 'network error'
}
