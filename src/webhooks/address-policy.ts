// Where webhook deliveries may go: public unicast addresses only, unless the operator allows
// private receivers (`--allow-private-webhooks`, INNKEEPER_ALLOW_PRIVATE_WEBHOOKS=1, on in the
// demo). Otherwise anyone with an API key could point a receiver at 127.0.0.1, 10.x, the cloud
// metadata service (169.254.169.254) or an internal name, and learn from the deliveries what
// answers there. Addresses are classified with ipaddr.js; names are resolved and every address
// they resolve to must be public: when a receiver is added, and again for each connection,
// through a `lookup` that hands the socket the very addresses it checked (so a DNS answer that
// changes between the check and the connection cannot slip a private address in).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import { InnkeeperError } from '../errors.js'

/**
 * The range an address belongs to (`unicast` for a public one); IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.1`) are judged as the IPv4 address they carry.
 */
export function addressRange(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (!ipaddr.isValid(bare)) return 'invalid'
  let parsed = ipaddr.parse(bare)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  return parsed.range()
}

/**
 * Public unicast only: not loopback, private (10/8, 172.16/12, 192.168/16), link-local (with
 * the 169.254.169.254 metadata service), CGNAT (100.64/10), unique-local IPv6 (fc00::/7, with
 * AWS's fd00:ec2::254), unspecified, multicast, broadcast, documentation, or an IPv6 form that
 * embeds an IPv4 address (mapped, NAT64, 6to4, Teredo).
 */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === 'unicast'
}

/** A host name that is this machine by definition, whatever DNS says. */
function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

export function privateAddressRefused(origin: string): InnkeeperError {
  return new InnkeeperError(
    'forbidden_host',
    `The webhook URL ${origin} points at a private, loopback, link-local or metadata address; Innkeeper delivers webhooks to public addresses only. An operator can allow private receivers with --allow-private-webhooks (INNKEEPER_ALLOW_PRIVATE_WEBHOOKS=1).`,
  )
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    )
  })

/**
 * The check when a receiver is added: an address literal must be public; a name must resolve to
 * public addresses only. A name that does not resolve (yet) is accepted: every delivery checks it
 * again before connecting.
 */
export async function checkReceiverAddress(url: URL, resolver: Resolver = systemResolver): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (ipaddr.isValid(host)) {
    if (!isPublicAddress(host)) throw privateAddressRefused(url.origin)
    return
  }
  if (isLocalName(host)) throw privateAddressRefused(url.origin)
  let addresses: LookupAddress[]
  try {
    addresses = await resolver(host)
  } catch {
    return
  }
  if (addresses.some((entry) => !isPublicAddress(entry.address))) throw privateAddressRefused(url.origin)
}

/** Raised inside a connection attempt to a refused address (the dispatcher reports its class only). */
export class RefusedAddressError extends Error {
  readonly code = 'EADDRREFUSED_BY_POLICY'
  constructor() {
    super('webhook receiver address not allowed')
    this.name = 'RefusedAddressError'
  }
}

/**
 * A `lookup` for `http.request`: resolves once, refuses the connection if any address is not
 * public, and otherwise gives the socket exactly the addresses it checked.
 */
export function publicOnlyLookup(resolver: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const done = callback as (error: Error | null, address: string | LookupAddress[], family?: number) => void
    const host = hostname.replace(/^\[|\]$/g, '')
    if (isLocalName(host)) {
      done(new RefusedAddressError(), '', 4)
      return
    }
    resolver(host).then(
      (found) => {
        const family = (options as { family?: number | string }).family
        const wanted = family === 4 || family === 6 ? found.filter((entry) => entry.family === family) : found
        if (wanted.length === 0) {
          done(Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }), '', 4)
          return
        }
        if (wanted.some((entry) => !isPublicAddress(entry.address))) {
          done(new RefusedAddressError(), '', 4)
          return
        }
        if ((options as { all?: boolean }).all) done(null, wanted)
        else done(null, wanted[0]!.address, wanted[0]!.family)
      },
      (error: Error) => done(error, '', 4),
    )
  }
}
