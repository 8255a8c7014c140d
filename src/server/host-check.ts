// The defence against DNS rebinding: a page on `rebind.attacker.example` whose name is made to
// point at 127.0.0.1 reaches this server with the attacker's name in `Host`. Innkeeper answers
// only Host names that are its own: the address the request arrived on, `localhost`, the
// public URL's host and the operator's `--allowed-host` list. Others get a plain 421.
import type { FastifyReply, FastifyRequest } from 'fastify'

/** `Name:port`, `[::1]:port`, `10.0.0.5` → the bare, lower-case host (no brackets, port or trailing dot). */
export function bareHost(value: string): string | undefined {
  let host = value.trim().toLowerCase()
  if (!host) return undefined
  if (host.includes('://')) {
    try {
      host = new URL(host).host
    } catch {
      return undefined
    }
  }
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end < 0) return undefined
    host = host.slice(1, end)
  } else if (host.indexOf(':') === host.lastIndexOf(':')) {
    host = host.split(':')[0] ?? ''
  }
  host = host.replace(/\.$/, '')
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice(7)
  return host || undefined
}

export interface HostCheckOptions {
  /** `--public-url`: its host is always answered. */
  publicUrl?: string
  /** Further names (or addresses) this server answers for, e.g. a load balancer's name. */
  allowedHosts?: string[]
}

/** The host names answered besides the address each request arrived on. */
export function allowedHostNames(options: HostCheckOptions): Set<string> {
  const names = new Set(['localhost'])
  for (const value of [options.publicUrl, ...(options.allowedHosts ?? [])]) {
    const host = value ? bareHost(value) : undefined
    if (host) names.add(host)
  }
  return names
}

/** An `onRequest` hook refusing requests for a Host this server does not answer for. */
export function refuseForeignHosts(options: HostCheckOptions) {
  const allowed = allowedHostNames(options)
  const answersFor = (given: string, localAddress: string | undefined): boolean => {
    const host = bareHost(given)
    if (!host) return false
    if (allowed.has(host)) return true
    return localAddress !== undefined && host === bareHost(`[${localAddress}]`)
  }
  // The Host last answered, on the local address it came to: under load nearly every request
  // repeats it, and then costs two string comparisons instead of parsing.
  let lastGiven: string | undefined
  let lastLocal: string | undefined
  return (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // Without trustProxy this is the Host header; behind a trusted proxy, X-Forwarded-Host.
    const given = request.host
    // HTTP/1.0 clients may send no Host; no browser does, so there is nothing to rebind.
    if (!given) return done()
    const localAddress = request.socket.localAddress
    if (given === lastGiven && localAddress === lastLocal) return done()
    if (answersFor(given, localAddress)) {
      lastGiven = given
      lastLocal = localAddress
      return done()
    }
    request.log.warn('request for a host name this server does not answer for refused')
    reply
      .code(421)
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(
        'This server does not answer for the host name in this request. If it is yours, start innkeeper serve with --public-url or --allowed-host naming it.\n',
      )
  }
}
