// Where an API call goes: a path is appended to the app's API base URL (after filling `@name`
// or `{name}` placeholders) and must stay under it (no `..` above the base, no encoded slashes
// or backslashes the platform might decode later); a full URL is accepted only on the
// provider's own hosts, so an access token never leaves for another host.
import { InnkeeperError } from '../errors.js'

export type Params = Record<string, string | number | boolean>
export type Query = Record<string, string | number | boolean | undefined | Array<string | number>>

const PLACEHOLDERS = {
  at: /@([A-Za-z_][A-Za-z0-9_]*)/g,
  braces: /\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
} as const

export function fillPathPlaceholders(path: string, params: Params, style: keyof typeof PLACEHOLDERS): string {
  const missing: string[] = []
  const filled = path.replace(PLACEHOLDERS[style], (match, name: string) => {
    const value = params[name]
    if (value === undefined) {
      missing.push(name)
      return match
    }
    return encodeURIComponent(String(value))
  })
  if (missing.length > 0) {
    const list = missing.map((name) => (style === 'at' ? `@${name}` : `{${name}}`)).join(', ')
    throw new InnkeeperError(
      'invalid_config',
      `The path ${path} has placeholders without values: ${list}. Pass them as params (CLI: --param ${missing[0]}=…).`,
    )
  }
  return filled
}

export function resolveRequestUrl(
  target: string,
  options: {
    apiUrl: string
    allowedOrigins: string[]
    params?: Params
    placeholderStyle: 'at' | 'braces'
    query?: Query
  },
): URL {
  const filled = fillPathPlaceholders(target, options.params ?? {}, options.placeholderStyle)
  let url: URL
  if (/^[a-z][a-z0-9+.-]*:/i.test(filled)) {
    url = new URL(filled)
    if (!options.allowedOrigins.includes(url.origin)) {
      throw new InnkeeperError(
        'forbidden_host',
        `Refusing to send this connection's token to ${url.origin}: only ${options.allowedOrigins.join(', ')} may receive it. Pass a path instead of a full URL.`,
      )
    }
  } else {
    const base = options.apiUrl.replace(/\/+$/, '')
    url = new URL(`${base}${filled.startsWith('/') ? '' : '/'}${filled}`)
    refuseEscapes(filled, url, new URL(base))
  }
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item))
  }
  return url
}

/** `%2f` and `%5c`: a slash the URL parser keeps encoded but a platform may decode, then resolve. */
const ENCODED_SEPARATOR = /%(2f|5c)/i

/**
 * Refuses a relative path that leaves the API base: `..` segments (also `%2e%2e`, which the URL
 * parser resolves like `..`) climbing above it, and separators a platform could decode and
 * resolve after us (`%2f`, `%5c`, and `\`, which URLs read as `/`).
 */
function refuseEscapes(path: string, resolved: URL, base: URL): void {
  const pathPart = path.split(/[?#]/, 1)[0] ?? ''
  const basePath = base.pathname.replace(/\/+$/, '')
  const inside =
    resolved.origin === base.origin &&
    (resolved.pathname === basePath || resolved.pathname.startsWith(`${basePath}/`) || basePath === '')
  if (inside && !ENCODED_SEPARATOR.test(pathPart) && !pathPart.includes('\\')) return
  throw new InnkeeperError(
    'forbidden_path',
    `Refusing to send this connection's token outside the API base ${base.origin}${basePath}/: the path climbs above it (..) or hides a slash (%2F, %5C, \\). Give a path under the API base.`,
  )
}
