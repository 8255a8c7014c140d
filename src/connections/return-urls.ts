// Where a connect link may send the end user back: each app keeps an allow-list of return URLs
// (`innkeeper apps add|set … --return-url-allow https://app.example/innkeeper/`). A return URL is
// allowed when its origin equals an entry's origin exactly and its path lies under the entry's
// path (whole segments: `/done` allows `/done` and `/done/x`, not `/doneX`). No open redirect.
import { ConfigError } from '../errors.js'
import type { AppSettings } from '../providers/endpoints.js'
import { requireSecureUrl } from '../providers/endpoints.js'

/** The app setting that holds the allow-list, entries separated by spaces. */
export const RETURN_URLS_SETTING = 'returnUrls'

/** Checks and normalises allow-list entries: HTTPS (HTTP on loopback), no credentials, query or fragment. */
export function normaliseReturnUrlAllowList(entries: string[]): string[] {
  const out: string[] = []
  for (const entry of entries) {
    const url = requireSecureUrl(entry.trim(), 'return URL allow-list entry')
    if (url.search !== '' || url.hash !== '') {
      throw new ConfigError(
        'invalid_config',
        `The return URL allow-list entry ${url.origin}${url.pathname} has a query or fragment; give an origin and a path prefix only, e.g. https://app.example/innkeeper/.`,
      )
    }
    const normal = `${url.origin}${url.pathname}`
    if (!out.includes(normal)) out.push(normal)
  }
  return out
}

export function returnUrlAllowList(settings: AppSettings): string[] {
  return (settings[RETURN_URLS_SETTING] ?? '').split(/\s+/).filter(Boolean)
}

function under(path: string, prefix: string): boolean {
  if (path === prefix) return true
  return path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
}

/**
 * The return URL as it will be used (parsed and normalised), when the allow-list allows it;
 * null otherwise. `..` segments are resolved before comparing, so they cannot climb out.
 */
export function allowedReturnUrl(candidate: string, allowList: string[]): URL | null {
  let url: URL
  try {
    url = new URL(candidate)
  } catch {
    return null
  }
  if (url.username !== '' || url.password !== '') return null
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  for (const entry of allowList) {
    const allowed = new URL(entry)
    if (allowed.origin === url.origin && under(url.pathname, allowed.pathname)) return url
  }
  return null
}
