// `innkeeper apps add|set|list|remove`: the OAuth applications registered on each platform. The
// client secret is read from stdin (or, with a warning, from the command line) and never shown.
import { type Command, Option } from 'commander'
import type { AppInfo } from '../../connections/apps.js'
import { scopeWarnings } from '../../connections/connect-request.js'
import { ConfigError } from '../../errors.js'
import { getProvider, listProviders } from '../../providers/registry.js'
import { withKeeper, withKeeperCreating } from '../keeper.js'
import { out, printJson, printTable, say, warn } from '../output.js'
import { readSecret } from '../prompt.js'

interface AddOptions {
  provider: string
  clientId: string
  clientSecret?: string
  clientSecretStdin?: boolean
  redirectUri?: string
  scope?: string
  baseUrl?: string
  authorizeUrl?: string
  tokenUrl?: string
  apiUrl?: string
  moduleApiUrl?: string
  revokeUrl?: string
  keepAlive?: string
  returnUrlAllow?: string[]
  json?: boolean
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function splitScopes(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value.split(/[\s,]+/).filter(Boolean)
}

async function clientSecretFrom(options: AddOptions): Promise<string | undefined> {
  if (options.clientSecret !== undefined && options.clientSecretStdin) {
    throw new ConfigError(
      'invalid_config',
      'Give the client secret once: --client-secret-stdin or --client-secret, not both.',
    )
  }
  if (options.clientSecret !== undefined) {
    warn(
      'a secret given with --client-secret lands in your shell history and the process list; prefer --client-secret-stdin.',
    )
    return options.clientSecret
  }
  if (options.clientSecretStdin) return readSecret('Client secret: ')
  return undefined
}

function describeApp(app: AppInfo): void {
  const provider = getProvider(app.provider)
  out(`Added app ${app.name} (${provider.displayName}).`)
  if (app.returnUrls.length > 0) say(`Connect links may return to: ${app.returnUrls.join(', ')}`)
  if (app.connectMode === 'authorization_code') {
    say(`Redirect URI: ${app.redirectUri ?? '(none: add --redirect-uri or use connect --listen)'}`)
    say(`Next: innkeeper connect ${app.name}`)
  } else {
    const flags = provider.connectOptions.map((option) => ` [--${option.flag} …]`).join('')
    say(`Next: innkeeper connect ${app.name}${flags}`)
  }
  for (const grant of app.connectGrants.filter((g) => g !== app.connectMode)) {
    say(`Or: innkeeper connect ${app.name} --grant ${grant}`)
  }
}

function registerAdd(apps: Command): void {
  apps
    .command('add')
    .description('register (or replace) an OAuth app you created on a platform')
    .argument('<app>', 'a name for the app, e.g. acme')
    .addOption(
      new Option('--provider <provider>', 'the platform').choices(listProviders()).makeOptionMandatory(),
    )
    .requiredOption('--client-id <id>', 'the client id the platform shows')
    .option('--client-secret-stdin', 'read the client secret from standard input (recommended)')
    .option(
      '--client-secret <secret>',
      'the client secret (lands in shell history: prefer --client-secret-stdin)',
    )
    .option('--redirect-uri <uri>', 'the redirect URI registered on the platform')
    .option('--scope <scopes>', 'default scopes, space separated, e.g. "public rentals_read"')
    .option('--base-url <url>', 'the installation address (BookyFlow, self-hosted)')
    .option('--authorize-url <url>', 'override the authorization endpoint')
    .option('--token-url <url>', 'override the token endpoint')
    .option('--api-url <url>', 'override the API base URL')
    .option(
      '--module-api-url <url>',
      'the API base URL of an app without a client secret (bookingtime Module API)',
    )
    .option('--revoke-url <url>', 'override the revocation endpoint')
    .option('--keep-alive <seconds>', 'refresh at least this often, even when idle')
    .option(
      '--return-url-allow <url>',
      'where connect links may return end users: origin + path prefix (repeatable)',
      collect,
    )
    .option('--json', 'print the app as JSON')
    .addHelpText(
      'after',
      `
Example:
  printf '%s\\n' "$SMILY_CLIENT_SECRET" | innkeeper apps add smily --provider smily \\
    --client-id "$SMILY_CLIENT_ID" --client-secret-stdin --scope "public rentals_read"`,
    )
    .action(async (name: string, options: AddOptions, command: Command) => {
      const clientSecret = await clientSecretFrom(options)
      const keepAliveSeconds = options.keepAlive === undefined ? undefined : Number(options.keepAlive)
      if (keepAliveSeconds !== undefined && !(Number.isInteger(keepAliveSeconds) && keepAliveSeconds > 0)) {
        throw new ConfigError('invalid_config', '--keep-alive takes a whole number of seconds, e.g. 86400.')
      }
      const app = await withKeeperCreating(command, (keeper) =>
        keeper.apps.add(name, {
          provider: options.provider,
          clientId: options.clientId,
          clientSecret,
          redirectUri: options.redirectUri,
          scopes: splitScopes(options.scope),
          baseUrl: options.baseUrl,
          authorizeUrl: options.authorizeUrl,
          tokenUrl: options.tokenUrl,
          apiUrl: options.apiUrl,
          moduleApiUrl: options.moduleApiUrl,
          revokeUrl: options.revokeUrl,
          keepAliveSeconds,
          returnUrls: options.returnUrlAllow,
        }),
      )
      for (const warning of scopeWarnings(getProvider(app.provider), app.scopes)) warn(warning)
      if (options.json) printJson(app)
      else describeApp(app)
    })
}

function registerSet(apps: Command): void {
  apps
    .command('set')
    .description("change an app's connect-link return-URL allow-list (replaces the list)")
    .argument('<app>', 'the app name')
    .option(
      '--return-url-allow <url>',
      'where connect links may return end users: origin + path prefix (repeatable)',
      collect,
    )
    .option('--no-return-url-allow', 'allow no return URL (connect links end on their own success page)')
    .option('--json', 'print the app as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  innkeeper apps set smily --return-url-allow https://app.example/innkeeper/',
    )
    .action(
      async (
        name: string,
        options: { returnUrlAllow?: string[] | false; json?: boolean },
        command: Command,
      ) => {
        if (options.returnUrlAllow === undefined) {
          throw new ConfigError(
            'invalid_config',
            'Say what to change: --return-url-allow <url> (repeatable), or --no-return-url-allow.',
          )
        }
        const urls = options.returnUrlAllow === false ? [] : options.returnUrlAllow
        const app = await withKeeper(command, (keeper) => keeper.apps.setReturnUrls(name, urls))
        if (options.json) return printJson(app)
        say(
          app.returnUrls.length > 0
            ? `Connect links of ${app.name} may return to: ${app.returnUrls.join(', ')}`
            : `Connect links of ${app.name} may return nowhere; they end on their own success page.`,
        )
      },
    )
}

function registerList(apps: Command): void {
  apps
    .command('list')
    .alias('ls')
    .description('list the registered apps (never their secrets)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  innkeeper apps list --json')
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await withKeeper(command, (keeper) => keeper.apps.list())
      if (options.json) return printJson(list)
      if (list.length === 0) {
        say('No apps yet. Add one with `innkeeper apps add <app> --provider … --client-id …`.')
        return
      }
      printTable(list, [
        { header: 'name', value: (app) => app.name },
        { header: 'provider', value: (app) => app.provider },
        { header: 'client id', value: (app) => app.clientId },
        { header: 'connect', value: (app) => app.connectMode },
        { header: 'redirect uri', value: (app) => app.redirectUri ?? '-' },
        { header: 'scopes', value: (app) => app.scopes.join(' ') || '-' },
      ])
    })
}

function registerRemove(apps: Command): void {
  apps
    .command('remove')
    .alias('rm')
    .description('remove an app and its connections from the store (grants are not revoked: see disconnect)')
    .argument('<app>', 'the app name')
    .addHelpText('after', '\nExample:\n  innkeeper apps remove acme')
    .action(async (name: string, _options: unknown, command: Command) => {
      const count = await withKeeper(command, async (keeper) => {
        const connections = await keeper.connections({ app: name })
        await keeper.apps.remove(name)
        return connections.length
      })
      out(`Removed app ${name}${count > 0 ? ` and its ${count} connection${count > 1 ? 's' : ''}` : ''}.`)
    })
}

export function registerApps(program: Command): void {
  const apps = program
    .command('apps')
    .description('register, list and remove OAuth apps')
    .addHelpText('after', '\nExample:\n  innkeeper apps list')
  registerAdd(apps)
  registerSet(apps)
  registerList(apps)
  registerRemove(apps)
}
