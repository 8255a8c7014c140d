#!/usr/bin/env node
// The `innkeeper` command: parses arguments with commander and hands each command to its file
// under `src/cli/commands/`. Errors end here: one or two sentences on stderr and a stable exit code.
import { Command, CommanderError } from 'commander'
import { isInnkeeperError } from '../errors.js'
import { registerEmulate } from './commands/emulate.js'
import { EXIT, exitCodeFor } from './exit-codes.js'

export function buildProgram(): Command {
  const program = new Command('innkeeper')
    .description(
      'Keeps the keys to every booking platform your application connects to.\n' +
        'Platform guides: docs/platforms/<platform>.md',
    )
    .option(
      '--store <url>',
      'where apps and tokens live: sqlite:PATH, memory:, postgres://…, redis://… (env INNKEEPER_STORE)',
    )
    .showSuggestionAfterError(true)
    .exitOverride()
  registerEmulate(program)
  return program
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram()
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
