// The `innkeeper` command line (started by `main.ts`): parses arguments with commander and hands
// each command to its file under `src/cli/commands/`. Errors end here: one or two sentences on
// stderr and a stable exit code.
import { Command, CommanderError } from 'commander'
import { resolveHome } from '../connections/home.js'
import { inFlightCount, whenNothingInFlight } from '../connections/in-flight.js'
import { isInnkeeperError } from '../errors.js'
import { loadProviderFiles, prepareProviderFiles, providersDirectory } from '../providers/files.js'
import { defaultProviders } from '../providers/registry.js'
import { registerCommands } from './command-table.js'
import { EXIT, exitCodeFor } from './exit-codes.js'
import { say } from './output.js'

/**
 * The program with the command `name` registered (every command when `name` is not one of
 * them: `--help`, `help`, or a word commander should suggest a correction for).
 */
export async function buildProgram(name: string): Promise<Command> {
  const program = new Command('innkeeper')
    .description(
      'Keeps the keys to every booking platform your application connects to.\n' +
        'Guides: docs/platforms/<platform>.md for each platform, and docs/cli.md.',
    )
    // Answered by main.ts when it is the only argument; here when it comes with others.
    .version(INNKEEPER_VERSION, '-V, --version', 'print the version of Innkeeper')
    .option(
      '--store <url>',
      'where apps and tokens live: sqlite:PATH, memory:, postgres://…, redis://… (env INNKEEPER_STORE)',
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  innkeeper demo                                  # every platform's flow against local emulators
  innkeeper apps add smily --provider smily --client-id ID --client-secret-stdin
  innkeeper connect smily                         # prints the URL, reads the code from stdin
  curl -H "Authorization: Bearer $(innkeeper token smily/main)" https://www.bookingsync.com/api/v3/rentals

Exit codes: 0 ok, 1 unexpected, 2 usage (bad flag, unknown app or connection),
3 a person must authorize again, 4 the provider refused, 5 the provider is unreachable.`,
    )
  await registerCommands(program, name)
  return program
}

/**
 * A reader that went away (`innkeeper connections | head -1`) is not an error: stop quietly, with
 * the exit status the command had so far, instead of an EPIPE stack trace.
 */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') process.exit(process.exitCode ?? 0)
      throw error
    })
  }
}

/**
 * Applies INNKEEPER_HOME/providers to the process's catalogue before the commands are built (their
 * flags and choices come from it). A broken file stops every command but `providers`, which is
 * how it gets fixed.
 */
async function loadUserProviders(): Promise<unknown> {
  try {
    const directory = providersDirectory(resolveHome().home)
    await prepareProviderFiles(directory)
    loadProviderFiles(defaultProviders, directory)
    return undefined
  } catch (error) {
    return error
  }
}

function refuseAllButProviders(program: Command, failure: unknown): void {
  program.hook('preAction', (_program, action) => {
    let command: Command | null = action
    while (command?.parent && command.parent !== program) command = command.parent
    if (command?.name() !== 'providers') throw failure
  })
}

/** Commands with their own SIGINT/SIGTERM handling (they finish in-flight work themselves). */
const OWN_SIGNAL_HANDLING = new Set(['serve', 'worker', 'emulate'])
/** The longest a Ctrl-C waits for a token request in flight (its timeouts and retries included). */
const IN_FLIGHT_WAIT_MS = 60_000

/**
 * Ctrl-C (or SIGTERM) while a token request is in flight would lose its answer: a rotating
 * platform has already retired the old refresh token, so the next refresh would reuse it and the
 * grant would be revoked. The first signal lets that request finish and be saved (bounded), then
 * exits; a second one exits at once and says what may be lost.
 */
function finishTokenRequestsOnSignal(): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143
    if (stopping) {
      say(
        'innkeeper: stopped while a token request was in flight. If the platform answered it, the new tokens were not saved and a rotating platform may already have retired the old refresh token: check with `innkeeper show <connection>` and connect again if it needs authorization.',
      )
      process.exit(code)
    }
    stopping = true
    if (inFlightCount() === 0) process.exit(code)
    say(
      'innkeeper: finishing the token request in flight so its new tokens are saved (press Ctrl-C again to quit now and risk losing them)…',
    )
    setTimeout(() => {
      say('innkeeper: the token request in flight did not finish in time; stopping.')
      process.exit(code)
    }, IN_FLIGHT_WAIT_MS).unref()
    void whenNothingInFlight().then(() => process.exit(code))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/** The command named on the command line (the first word that is not a global option). */
function commandName(argv: string[]): string {
  const args = argv.slice(2)
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!
    if (arg === '--store') index += 1
    else if (!arg.startsWith('-')) return arg
  }
  return ''
}

async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe()
  const name = commandName(argv)
  if (!OWN_SIGNAL_HANDLING.has(name)) finishTokenRequestsOnSignal()
  const failure = await loadUserProviders()
  const program = await buildProgram(name)
  if (failure !== undefined) refuseAllButProviders(program, failure)
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (help, version or a usage error).
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage
      return
    }
    const message = isInnkeeperError(error)
      ? error.message
      : `Unexpected error: ${error instanceof Error ? error.message : String(error)}. Please report it.`
    process.stderr.write(`innkeeper: ${message}\n`)
    process.exitCode = exitCodeFor(error)
  }
}

await main(process.argv)
