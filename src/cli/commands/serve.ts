// `innkeeper serve [--demo]`: runs the server (dashboard, OAuth callback, token API, proxy,
// health and metrics) until SIGTERM/SIGINT, then closes it cleanly. Its API keys are managed
// by `innkeeper keys` (keys.ts).
import { randomBytes } from 'node:crypto'
import { type Command, InvalidArgumentError } from 'commander'
import { auditRetentionDays } from '../../audit/retention.js'
import { Innkeeper } from '../../innkeeper.js'
import { refuseUrlCredentials } from '../../providers/endpoints.js'
import type { DemoSetup } from '../../server/demo.js'
import { isLoopbackHost } from '../../server/session.js'
import { storeOption } from '../keeper.js'
import { paint, say } from '../output.js'

interface ServeOptions {
  port: number
  host: string
  demo?: boolean
  publicUrl?: string
  trustProxy?: boolean
  allowedHost: string[]
  allowPrivateWebhooks?: boolean
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('give a port from 0 to 65535')
  return port
}

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ]
}

/** The names this server answers for besides localhost, the address reached and the public URL. */
function allowedHosts(options: ServeOptions): string[] {
  const fromEnvironment = collect(process.env.INNKEEPER_ALLOWED_HOSTS ?? '', [])
  // A name given to --host is this server's own; wildcard addresses are not names.
  const listen = options.host === '0.0.0.0' || options.host === '::' ? [] : [options.host]
  return [...listen, ...fromEnvironment, ...options.allowedHost]
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

function environmentApiKeys(): string[] {
  return (process.env.INNKEEPER_API_KEYS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean)
}

async function serve(options: ServeOptions, command: Command): Promise<void> {
  // Loaded here, not at start-up: other commands need not pay for the HTTP framework.
  const [{ ApiKeyVerifier, createApiKey }, { startDemo }, { createServer }] = await Promise.all([
    import('../../server/api-keys.js'),
    import('../../server/demo.js'),
    import('../../server/server.js'),
  ])
  const publicUrl = options.publicUrl ?? process.env.INNKEEPER_PUBLIC_URL ?? undefined
  if (publicUrl) refuseUrlCredentials(publicUrl, 'public URL')
  const explicitStore = storeOption(command)
  // The demo runs on a throw-away in-memory store unless told otherwise.
  const keeper = await Innkeeper.open({
    store: explicitStore ?? (options.demo ? 'memory:' : undefined),
    // The demo's receivers are usually on this machine; elsewhere only the operator allows it.
    ...(options.demo || options.allowPrivateWebhooks ? { allowPrivateWebhooks: true } : {}),
  })
  const loopback = isLoopbackHost(options.host)
  let adminPassword = process.env.INNKEEPER_ADMIN_PASSWORD || undefined
  let demoPassword: string | undefined
  if (options.demo && !loopback && !adminPassword) {
    demoPassword = randomBytes(12).toString('base64url')
    adminPassword = demoPassword
  }
  let demo: DemoSetup | undefined
  // Filled once the demo apps exist (they need this server's address for the callback).
  const connectDefaults: Record<string, Record<string, string>> = {}
  const app = await createServer({
    keeper,
    apiKeys: environmentApiKeys(),
    adminPassword,
    publicUrl,
    trustProxy: options.trustProxy,
    allowedHosts: allowedHosts(options),
    // Only the loopback demo opens the dashboard without a login: nobody else can reach it.
    dashboardAuth: options.demo && loopback ? 'none' : 'login',
    connectDefaults,
  })
  const durability = await keeper.store.durabilityWarning().catch(() => undefined)
  if (durability) app.log.warn({ store: keeper.store.kind }, durability)
  try {
    await app.listen({ host: options.host, port: options.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address ? address.port : options.port
    const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host
    const origin =
      publicUrl?.replace(/\/+$/, '') ??
      `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`

    if (options.demo) {
      demo = await startDemo(keeper, `${origin}/callback`)
      Object.assign(connectDefaults, demo.connectDefaults)
      const { key } = await createApiKey(keeper.store, 'demo')
      say('')
      say(paint('bold', 'Innkeeper demo', process.stderr))
      say(`  Dashboard:  ${origin}/`)
      say(
        demoPassword
          ? `  Login:      one-time demo password ${demoPassword}`
          : adminPassword
            ? '  Login:      INNKEEPER_ADMIN_PASSWORD'
            : '  Login:      none (demo on loopback only)',
      )
      say(`  API key:    ${key}`)
      say(`  Try:        curl -H 'Authorization: Bearer ${key}' ${origin}/api/connections`)
      say('  Demo apps (local emulators, no accounts needed):')
      for (const entry of demo.apps) say(`    ${entry.name.padEnd(17)} ${entry.provider}: ${entry.flow}`)
      say(`  Store:      ${explicitStore ?? 'in memory (gone when the demo stops)'}`)
      say('  Ctrl-C stops everything.')
      say('')
    } else {
      say(`Innkeeper serving on ${origin}/ (store: ${keeper.store.kind}). Ctrl-C or SIGTERM stops it.`)
      if (!adminPassword && !(await new ApiKeyVerifier(keeper.store, environmentApiKeys()).anyConfigured())) {
        say(
          'The dashboard and API need a credential: set INNKEEPER_ADMIN_PASSWORD and create an API key with `innkeeper keys create`.',
        )
      }
    }
    const webhooks = keeper.startWebhookDispatcher()
    keeper.audit.startRetention(auditRetentionDays())
    keeper.connectSessionSweep.start()
    const signal = await waitForSignal()
    await webhooks.stop()
    app.log.info({ signal }, 'shutting down')
  } finally {
    await app.close()
    await demo?.close()
    await keeper.close()
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the dashboard, OAuth callback, token API and proxy over HTTP')
    .option('--port <port>', 'port to listen on', parsePort, 4180)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--public-url <url>', 'origin browsers use to reach this server (env INNKEEPER_PUBLIC_URL)')
    .option('--trust-proxy', 'trust X-Forwarded-* headers from a reverse proxy')
    .option(
      '--allowed-host <host>',
      'another host name this server answers for (repeatable; env INNKEEPER_ALLOWED_HOSTS, comma-separated)',
      collect,
      [],
    )
    .option(
      '--allow-private-webhooks',
      'deliver webhooks to private, loopback and link-local addresses too (on with --demo; env INNKEEPER_ALLOW_PRIVATE_WEBHOOKS=1)',
    )
    .option('--demo', 'also start every emulator and register a demo app per platform (in-memory store)')
    .addHelpText(
      'after',
      `
Examples:
  $ innkeeper serve --demo
  $ INNKEEPER_ADMIN_PASSWORD=… innkeeper serve --store postgres://… --host 0.0.0.0 --public-url https://keys.example.com

Environment: INNKEEPER_API_KEYS (comma-separated), INNKEEPER_ADMIN_PASSWORD,
INNKEEPER_SESSION_SECRET, INNKEEPER_PUBLIC_URL, INNKEEPER_ALLOWED_HOSTS, INNKEEPER_LOG_LEVEL. See docs/server.md.`,
    )
    .action(async (options: ServeOptions, command: Command) => serve(options, command))
}
