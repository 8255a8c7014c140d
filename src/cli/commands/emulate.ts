// `innkeeper emulate <platform...>`: starts local emulators on loopback, prints their URLs and
// test client (first stdout line is JSON with --json), and serves until SIGINT or SIGTERM.
import { type Command, InvalidArgumentError } from 'commander'

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('give a port from 0 to 65535')
  return port
}

export function registerEmulate(program: Command): void {
  program
    .command('emulate')
    .description(
      'Start local emulators of the platforms (bookingsync/smily, bookingexperts, bookingtime, bookyflow, all)',
    )
    .argument('<platform...>', 'platforms to emulate, or "all"')
    .option('--json', 'print one JSON object keyed by platform as the first line of output')
    .option(
      '--port <port>',
      'first port; several platforms take consecutive ports (default: free ports)',
      parsePort,
      0,
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addHelpText(
      'after',
      `
Examples:
  $ innkeeper emulate all --json
  {"bookingsync":{"authorizeUrl":"http://127.0.0.1:41233/oauth/authorize",…},"bookingexperts":{…},…}

  $ innkeeper emulate smily --port 4000
  $ curl -X POST 'http://127.0.0.1:4000/__admin/advance?seconds=7200'

Each emulator has a control API under its adminUrl: POST /config, POST /advance?seconds=N,
GET /stats, POST /revoke-all, POST /reset. See docs/emulators.md.`,
    )
    .action(async (platforms: string[], options: { json?: boolean; port: number; host: string }) => {
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
        '../../emulators/index.js'
      )
      let handles: Awaited<ReturnType<typeof startEmulators>>
      try {
        handles = await startEmulators(platforms, { port: options.port, host: options.host })
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
