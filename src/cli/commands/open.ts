// `innkeeper open [audit | <conn>] [--url URL] [--print]`: opens the dashboard of a running
// `innkeeper serve` (or its audit page, or one connection's page) in the browser where there is
// one; prints the URL on stdout when there is none, or with --print. Needs no store: only the
// service's address (--url, else INNKEEPER_PUBLIC_URL, else serve's default http://127.0.0.1:4180).
import type { Command } from 'commander'
import { normaliseConnectionId, splitConnectionId } from '../../connections/connection-id.js'
import { InnkeeperError } from '../../errors.js'
import { refuseUrlCredentials } from '../../providers/endpoints.js'
import { openBrowser } from '../browser.js'
import { out, say } from '../output.js'

export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:4180'

interface OpenOptions {
  url?: string
  print?: boolean
}

/** The service's base URL, ending in `/` so pages resolve under a path prefix (`/innkeeper/`). */
export function serviceBaseUrl(given: string | undefined, env: NodeJS.ProcessEnv = process.env): URL {
  const text = given?.trim() || env.INNKEEPER_PUBLIC_URL?.trim() || DEFAULT_SERVICE_URL
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InnkeeperError(
      'invalid_config',
      `"${text}" is not a URL: give the address of innkeeper serve, e.g. --url https://keys.example.com (or set INNKEEPER_PUBLIC_URL).`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InnkeeperError(
      'invalid_config',
      `The service URL must start with http:// or https://, not ${url.protocol}: give the address of innkeeper serve.`,
    )
  }
  refuseUrlCredentials(url, 'service URL')
  url.search = ''
  url.hash = ''
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

/** The page to open: the dashboard, the audit page, or a connection's page. */
export function pagePath(target: string | undefined): string {
  if (target === undefined || target === '' || target === 'dashboard') return ''
  if (target === 'audit') return 'audit'
  const { app, name } = splitConnectionId(normaliseConnectionId(target))
  return `connections/${encodeURIComponent(app)}/${encodeURIComponent(name)}`
}

export function registerOpen(program: Command): void {
  program
    .command('open [page]')
    .description(
      'open the dashboard of innkeeper serve in your browser (page: audit, or a connection <app>/<name>)',
    )
    .option('--url <url>', `the service's address (env INNKEEPER_PUBLIC_URL; default ${DEFAULT_SERVICE_URL})`)
    .option('--print', 'print the URL instead of opening a browser')
    .addHelpText(
      'after',
      `
Examples:
  innkeeper open                                   # the dashboard at ${DEFAULT_SERVICE_URL}
  innkeeper open smily/main --url https://keys.example.com
  innkeeper open audit --print                     # just the URL, for another machine's browser

Without a browser here (no display, not a terminal, CI or INNKEEPER_NO_BROWSER set) the URL is
printed instead. Nothing checks that the service is running.`,
    )
    .action((page: string | undefined, options: OpenOptions) => {
      const url = new URL(pagePath(page), serviceBaseUrl(options.url)).href
      if (!options.print && openBrowser(url)) {
        say(`Opened ${url} in your browser.`)
        return
      }
      out(url)
    })
}
