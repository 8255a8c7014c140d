// `innkeeper connect <app>`: makes a connection. Authorization code: prints the URL (the first
// line of stdout) and reads the code from stdin, or completes a pending one with `--code`, or
// receives the redirect itself with `--listen`. Client credentials: connects at once.
import { type Command, Option } from 'commander'
import { ConfigError, InnkeeperError } from '../../errors.js'
import type { Innkeeper } from '../../innkeeper.js'
import type { ConnectionInfo } from '../../model/connection.js'
import { getProvider } from '../../providers/registry.js'
import {
  CONNECT_GRANTS,
  type ConnectGrant,
  connectGrantsOf,
  type ProviderDefinition,
} from '../../providers/schema.js'
import { openBrowser } from '../browser.js'
import { startCallbackServer } from '../callback-server.js'
import { addConnectOptionFlags, readConnectOptions } from '../connect-options.js'
import { withKeeper } from '../keeper.js'
import { formatTime, out, printJson, say, warn } from '../output.js'
import { readLine, readSecret } from '../prompt.js'
import { splitScopes } from './apps.js'

interface ConnectFlags {
  name?: string
  scope?: string
  code?: string
  listen?: string | true
  redirectUri?: string
  json?: boolean
  clientCredentials?: boolean
  apiKey?: string
  apiKeyStdin?: boolean
  grant?: ConnectGrant
}

/** The API key from stdin (recommended) or, with a warning, from the command line; never echoed. */
async function apiKeyFrom(flags: ConnectFlags): Promise<string | undefined> {
  if (flags.apiKey !== undefined && flags.apiKeyStdin) {
    throw new ConfigError('invalid_config', 'Give the API key once: --api-key-stdin or --api-key, not both.')
  }
  const clashing = (
    [
      ['--code', flags.code !== undefined],
      ['--listen', flags.listen !== undefined],
      ['--redirect-uri', flags.redirectUri !== undefined],
      ['--scope', flags.scope !== undefined],
      ['--client-credentials', flags.clientCredentials === true],
      ['--grant', flags.grant !== undefined],
    ] as const
  ).filter(([, given]) => given)
  if ((flags.apiKey !== undefined || flags.apiKeyStdin) && clashing.length > 0) {
    throw new ConfigError(
      'invalid_config',
      `An API key connects without an authorization: drop ${clashing.map(([flag]) => flag).join(', ')}.`,
    )
  }
  if (flags.apiKey !== undefined) {
    warn(
      'an API key given with --api-key lands in your shell history and the process list; prefer --api-key-stdin.',
    )
    return flags.apiKey
  }
  if (flags.apiKeyStdin) return readSecret('API key: ')
  return undefined
}

/** `--grant`, or `--client-credentials`, or the provider's default; a grant it does not offer is refused. */
function chooseGrant(flags: ConnectFlags, provider: ProviderDefinition): ConnectGrant {
  if (flags.clientCredentials && flags.grant && flags.grant !== 'client_credentials') {
    throw new ConfigError(
      'invalid_config',
      `--client-credentials and --grant ${flags.grant} contradict each other: give one.`,
    )
  }
  const grant = flags.grant ?? (flags.clientCredentials ? 'client_credentials' : provider.connect)
  const offered = connectGrantsOf(provider)
  if (!offered.includes(grant)) {
    throw new ConfigError(
      'invalid_config',
      `${provider.displayName} apps do not connect with ${grant}: use --grant ${offered.join(' or --grant ')}.`,
    )
  }
  return grant
}

type BaseOptions = { name?: string; scopes?: string[] } & Record<string, unknown>

export function reportConnection(info: ConnectionInfo, json = false): void {
  if (json) {
    printJson(info)
    return
  }
  const provider = getProvider(info.provider)
  out(`Connected ${info.id} (${provider.displayName}).`)
  if (info.metadata.grant === 'api_key') {
    out(`  API key: sent in ${provider.apiKey?.header ?? 'its header'}; never expires, never refreshed`)
  } else {
    out(`  scopes: ${info.scopes.join(' ') || '-'}`)
    out(`  access token valid until: ${formatTime(info.accessTokenExpiresAt)}`)
  }
  for (const [key, value] of Object.entries(info.metadata)) {
    if (key === 'grant') continue
    out(`  ${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`)
  }
  if (info.lastError) say(`Warning: ${info.lastError.message}`)
}

function listenPort(listen: string | true): number | undefined {
  if (listen === true) return undefined
  const port = Number(listen)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError('invalid_config', `--listen takes a port number (0-65535), not "${listen}".`)
  }
  return port
}

/** Where to listen: the app's own loopback redirect URI when it has one, else /callback on any port. */
function listenTarget(
  registered: string | null,
  port: number | undefined,
): { port: number; path: string; redirectUri?: string } {
  if (registered) {
    try {
      const url = new URL(registered)
      const loopback = url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
      if (loopback && url.port && (port === undefined || port === Number(url.port))) {
        return { port: Number(url.port), path: url.pathname, redirectUri: registered }
      }
    } catch {
      // Not a URL (the out-of-band URN): listen on a port of our own.
    }
  }
  return { port: port ?? 0, path: '/callback' }
}

async function connectOutOfBand(keeper: Innkeeper, app: string, base: BaseOptions, flags: ConnectFlags) {
  const start = await keeper.authorize(app, { ...base, redirectUri: flags.redirectUri })
  out(start.url)
  for (const warning of start.warnings) warn(warning)
  if (process.stdin.isTTY) {
    say(
      'Open the URL above, approve, then paste the code the platform shows (or the address it sent you to).',
    )
    openBrowser(start.url)
  }
  let line: string
  try {
    line = await readLine('Code: ')
  } catch {
    throw new InnkeeperError(
      'invalid_config',
      `No code was read from standard input. Finish within 10 minutes with \`innkeeper connect ${app} --code CODE\`.`,
    )
  }
  if (!line) {
    throw new InnkeeperError(
      'invalid_config',
      `The code was empty. Finish within 10 minutes with \`innkeeper connect ${app} --code CODE\`.`,
    )
  }
  return start.complete(line)
}

async function connectWithListener(
  keeper: Innkeeper,
  app: string,
  base: BaseOptions,
  flags: ConnectFlags & { listen: string | true },
  registered: string | null,
): Promise<ConnectionInfo> {
  const target = listenTarget(flags.redirectUri ?? registered, listenPort(flags.listen))
  let state = ''
  let connected: ConnectionInfo | undefined
  const server = await startCallbackServer(target.port, target.path, async (callbackUrl) => {
    connected = await keeper.completeAuthorization(callbackUrl, state)
    return `Innkeeper connected ${connected.id}.`
  })
  try {
    const redirectUri = target.redirectUri ?? server.redirectUri
    const start = await keeper.authorize(app, { ...base, redirectUri })
    state = start.state
    out(start.url)
    for (const warning of start.warnings) warn(warning)
    say(`Waiting for the platform to send the browser to ${redirectUri} …`)
    if (openBrowser(start.url)) say('Opened your browser; approve there.')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new InnkeeperError(
              'invalid_state',
              `No redirect arrived within 10 minutes. Run \`innkeeper connect ${app} --listen\` again.`,
            ),
          ),
        Math.max(1_000, start.expiresAt - Date.now()),
      )
    })
    try {
      await Promise.race([server.result, timeout])
    } finally {
      clearTimeout(timer)
    }
    if (!connected) throw new InnkeeperError('invalid_state', 'The redirect did not complete the connection.')
    return connected
  } finally {
    await server.close()
  }
}

export function registerConnect(program: Command): void {
  const command = program
    .command('connect')
    .description('connect an account: authorize in the browser, or at once for client-credentials platforms')
    .argument('<app>', 'the app to connect')
    .option('--name <name>', 'the connection name within the app', 'main')
    .option('--scope <scopes>', 'scopes to ask for, space separated (default: the app’s)')
    .option('--code <code>', 'complete the app’s pending authorization with this code')
    .option('--listen [port]', 'receive the redirect on 127.0.0.1 (any free port unless given)')
    .option('--redirect-uri <uri>', 'use this redirect URI instead of the app’s')
    .option('--json', 'print the connection as JSON when done')
    .addOption(
      new Option(
        '--grant <grant>',
        'how to connect, where the platform offers several (default: the platform’s; bookingtime: client_credentials)',
      ).choices(CONNECT_GRANTS),
    )
    .option(
      '--api-key-stdin',
      'connect with an API key read from standard input, where the platform offers keys',
    )
    .option('--api-key <key>', 'connect with this API key (lands in shell history: prefer --api-key-stdin)')
    .option(
      '--client-credentials',
      'the same as --grant client_credentials (BookingSync: a public-scope token)',
    )
  addConnectOptionFlags(command)
    .addHelpText(
      'after',
      `
Examples:
  innkeeper connect smily                        # prints the URL, then reads the code from stdin
  innkeeper connect smily --code 4f1e…           # completes the pending authorization
  innkeeper connect experts --listen 8910        # receives the redirect on http://127.0.0.1:8910/callback
  innkeeper connect bt --organization 42         # bookingtime: client credentials for an organization
  innkeeper connect bt --grant authorization_code --organization 42 --listen   # bookingtime: a person approves
  innkeeper connect bf --channel my-channel      # BookyFlow: with a channel announce
  innkeeper connect smily --name bulk --client-credentials   # BookingSync: public data of every account
  printf '%s\n' "$KEY" | innkeeper connect experts --name key --api-key-stdin   # Booking Experts: an API key`,
    )
    .action(async (app: string, flags: ConnectFlags, cmd: Command) => {
      const info = await withKeeper(cmd, async (keeper) => {
        const apiKey = await apiKeyFrom(flags)
        if (apiKey !== undefined) {
          const result = await keeper.connect(app, { name: flags.name, apiKey })
          if (result.kind !== 'connected') throw new InnkeeperError('invalid_state', 'Expected a connection.')
          return result.connection
        }
        if (flags.code !== undefined) return keeper.completePendingAuthorization(app, flags.code)
        const appInfo = await keeper.apps.get(app)
        const provider = getProvider(appInfo.provider)
        const base: BaseOptions = {
          name: flags.name,
          scopes: splitScopes(flags.scope),
          ...readConnectOptions(cmd, provider),
        }
        const grant = chooseGrant(flags, provider)
        if (grant === 'client_credentials') {
          if (flags.listen !== undefined) {
            throw new ConfigError(
              'invalid_config',
              `Client credentials connect without a browser: drop --listen${connectGrantsOf(provider).includes('authorization_code') ? ', or add --grant authorization_code' : ''}.`,
            )
          }
          if (process.stderr.isTTY) say(`Connecting ${app} with its client credentials…`)
          const result = await keeper.connect(app, { ...base, grant: 'client_credentials' })
          if (result.kind !== 'connected') throw new InnkeeperError('invalid_state', 'Expected a connection.')
          for (const warning of result.warnings) warn(warning)
          return result.connection
        }
        if (flags.listen !== undefined) {
          return connectWithListener(
            keeper,
            app,
            base,
            { ...flags, listen: flags.listen },
            appInfo.redirectUri,
          )
        }
        return connectOutOfBand(keeper, app, base, flags)
      })
      reportConnection(info, flags.json)
    })
}
