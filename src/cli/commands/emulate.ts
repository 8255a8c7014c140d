// `innkeeper emulate <platform...>`: starts local emulators on loopback, prints their URLs and
// test client (first stdout line is JSON with --json), and serves until SIGINT or SIGTERM.
import { type Command, InvalidArgumentError } from 'commander'
import { emulatorNames } from '../../emulators/platforms.js'

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('give a port from 0 to 65535')
  return port
}

function parseMs(value: string): number {
  const ms = Number(value)
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000)
    throw new InvalidArgumentError('give milliseconds from 0 to 600000')
  return ms
}

function parseRate(value: string): number {
  const rate = Number(value)
  if (!Number.isInteger(rate) || rate < 0)
    throw new InvalidArgumentError('give a whole number, 0 for no limit')
  return rate
}

interface EmulateOptions {
  json?: boolean
  port: number
  host: string
  latency?: number
  jitter?: number
  rateLimit?: number
}

export function registerEmulate(program: Command): void {
  program
    .command('emulate')
    .description(`Start local emulators of the platforms (${emulatorNames().join(', ')})`)
    .argument('<platform...>', 'platforms to emulate, or "all"')
    .option('--json', 'print one JSON object keyed by platform as the first line of output')
    .option(
      '--port <port>',
      'first port; several platforms take consecutive ports (default: free ports)',
      parsePort,
      0,
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--latency <ms>',
      'delay every token and API request by this much (a real platform: 100-300)',
      parseMs,
    )
    .option('--jitter <ms>', 'vary each delay by up to ± this much, uniformly', parseMs)
    .option(
      '--rate-limit <n>',
      'accept N token requests per second per client; more get 429 with Retry-After',
      parseRate,
    )
    .addHelpText(
      'after',
      `
Examples:
  $ innkeeper emulate all --json
  {"bookingsync":{"authorizeUrl":"http://127.0.0.1:41233/oauth/authorize",…},"bookingexperts":{…},…}

  $ innkeeper emulate smily --port 4000
  $ innkeeper emulate smily --latency 150 --jitter 50 --rate-limit 20   # a realistic platform
  $ curl -X POST 'http://127.0.0.1:4000/__admin/advance?seconds=7200'

Each emulator has a control API under its adminUrl: POST /config, POST /advance?seconds=N,
GET /stats, POST /revoke-all, POST /reset. See docs/emulators.md.`,
    )
    .action(async (platforms: string[], options: EmulateOptions) => {
      // Listen for the signals before printing: whoever reads the first line may signal at once.
      let stop: () => void = () => {}
      const stopped = new Promise<void>((resolve) => {
        stop = () => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          resolve()
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
      // Loaded here, not at start-up: other commands need not pay for the HTTP framework.
      const { describeEmulators, formatEmulatorsForPeople, startEmulators } = await import(
        '../../emulators/platforms.js'
      )
      let handles: Awaited<ReturnType<typeof startEmulators>>
      try {
        const config = {
          ...(options.latency !== undefined ? { latencyMs: options.latency } : {}),
          ...(options.jitter !== undefined ? { latencyJitterMs: options.jitter } : {}),
          ...(options.rateLimit !== undefined ? { tokenRequestsPerSecond: options.rateLimit } : {}),
        }
        handles = await startEmulators(platforms, { port: options.port, host: options.host, config })
      } catch (error) {
        stop()
        throw error
      }
      const output = options.json
        ? `${JSON.stringify(describeEmulators(handles))}\n`
        : `${formatEmulatorsForPeople(handles)}\nServing until Ctrl-C.\n`
      process.stdout.write(output)
      await stopped
      await Promise.all(handles.map((handle) => handle.close()))
      process.exitCode = 0
    })
}
