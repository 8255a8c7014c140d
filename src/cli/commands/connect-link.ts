// `innkeeper connect-link <app>`: a single-use connect link for an end user, like
// `POST /api/connect-sessions` but from the command line. It writes the session into the store
// that `innkeeper serve` uses (same --store and keys) and prints `<public url>/connect/<token>`;
// the public URL is the service's address as browsers reach it (--public-url or
// INNKEEPER_PUBLIC_URL, as for `serve`). The link's connection is audited under `cli:<user>`.
import type { Command } from 'commander'
import { cliActor } from '../../audit/actor.js'
import {
  connectLinkUrl,
  createConnectSession,
  DEFAULT_CONNECT_SESSION_SECONDS,
} from '../../connections/connect-sessions.js'
import { connectionId } from '../../connections/connection-id.js'
import { ConfigError } from '../../errors.js'
import { refuseUrlCredentials, requireSecureUrl } from '../../providers/endpoints.js'
import { withKeeper } from '../keeper.js'
import { out, printJson, say } from '../output.js'

interface LinkOptions {
  name?: string
  returnUrl?: string
  option?: string[]
  expiresIn?: string
  replace?: boolean
  publicUrl?: string
  json?: boolean
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function parseOptions(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0)
      throw new ConfigError('invalid_config', `--option takes name=value, e.g. --option organizationId=42.`)
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

export function registerConnectLink(program: Command): void {
  program
    .command('connect-link')
    .description('print a single-use link an end user opens to connect an app (served by `innkeeper serve`)')
    .argument('<app>', 'the app to connect')
    .option('--name <name>', 'the connection name (default: a fresh link-<hex>)')
    .option(
      '--return-url <url>',
      "where the end user goes afterwards (must match the app's --return-url-allow)",
    )
    .option('--option <name=value>', 'fix a connect option, e.g. organizationId=42 (repeatable)', collect)
    .option('--expires-in <seconds>', `how long the link works (default ${DEFAULT_CONNECT_SESSION_SECONDS})`)
    .option('--replace', 'allow replacing an existing connection of the same name')
    .option(
      '--public-url <url>',
      'the address of `innkeeper serve` as browsers reach it (env INNKEEPER_PUBLIC_URL)',
    )
    .option('--json', 'print { url, expiresAt, connectionId } as JSON')
    .addHelpText(
      'after',
      `
The link is stored (hashed) in the same store as \`innkeeper serve\` uses: run this with the
service's --store and keys. It works once, until it expires.

Example:
  $ innkeeper connect-link smily --name guest-42 --return-url https://app.example/innkeeper/done \\
      --public-url https://keys.example.com`,
    )
    .action(async (app: string, options: LinkOptions, command: Command) => {
      const publicUrl = options.publicUrl ?? process.env.INNKEEPER_PUBLIC_URL
      if (!publicUrl) {
        throw new ConfigError(
          'invalid_config',
          'A connect link needs the address of `innkeeper serve` as browsers reach it: --public-url https://… or INNKEEPER_PUBLIC_URL.',
        )
      }
      refuseUrlCredentials(publicUrl, 'public URL')
      const origin = requireSecureUrl(publicUrl, 'public URL')
      const expiresIn = options.expiresIn === undefined ? undefined : Number(options.expiresIn)
      const { token, session } = await withKeeper(command, (keeper) =>
        createConnectSession(
          keeper,
          {
            app,
            name: options.name,
            returnUrl: options.returnUrl,
            options: parseOptions(options.option),
            expiresIn,
            replace: options.replace,
          },
          cliActor(),
        ),
      )
      const url = connectLinkUrl(`${origin.origin}${origin.pathname}`, token)
      const result = {
        url,
        expiresAt: new Date(session.expiresAt).toISOString(),
        connectionId: connectionId(session.app, session.name),
      }
      if (options.json) printJson(result)
      else out(url)
      say(`Single use, until ${result.expiresAt}; it connects ${result.connectionId}.`)
    })
}
