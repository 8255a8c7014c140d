// `innkeeper export --to FILE` and `innkeeper import --from FILE`: move apps and connections
// between stores (SQLite to PostgreSQL, say) without anyone authorizing again. The passphrase is
// read from standard input (typed without echo on a terminal), never from the command line.
import type { Command } from 'commander'
import { InnkeeperError } from '../../errors.js'
import { exportStore, importStore } from '../../transfer/index.js'
import { withKeeper, withKeeperCreating } from '../keeper.js'
import { out, printJson, say } from '../output.js'
import { readSecret } from '../prompt.js'

async function passphrase(confirm: boolean): Promise<string> {
  const first = await readSecret('Passphrase for the export file: ')
  if (confirm && process.stdin.isTTY) {
    const again = await readSecret('The same passphrase again: ')
    if (again !== first)
      throw new InnkeeperError('invalid_config', 'The two passphrases differ; nothing was written.')
  }
  return first
}

export function registerTransfer(program: Command): void {
  program
    .command('export')
    .description(
      'write every app (with its secret) and connection (with its tokens) to a passphrase-encrypted file',
    )
    .requiredOption('--to <file>', 'the file to write (mode 0600)')
    .option('--force', 'overwrite the file if it exists')
    .addHelpText(
      'after',
      `
The passphrase is read from standard input. Keep the file and the passphrase apart: together
they give access to every connected account.

Example:
  innkeeper export --to innkeeper-backup.json < passphrase.txt`,
    )
    .action(async (options: { to: string; force?: boolean }, command: Command) => {
      const secret = await passphrase(true)
      const summary = await withKeeper(command, (keeper) =>
        exportStore(keeper.store, { path: options.to, passphrase: secret, overwrite: options.force }),
      )
      out(`Exported ${summary.apps} apps and ${summary.connections} connections to ${summary.path}.`)
    })

  program
    .command('import')
    .description(
      'read an export file into this store (--store), re-encrypted with its keys; newer data is kept',
    )
    .requiredOption('--from <file>', 'a file written by `innkeeper export`')
    .option('--force', 'overwrite apps and connections even where the store holds newer data')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Example:
  innkeeper import --from innkeeper-backup.json --store "postgres://innkeeper@db/innkeeper" < passphrase.txt`,
    )
    .action(async (options: { from: string; force?: boolean; json?: boolean }, command: Command) => {
      const secret = await passphrase(false)
      const summary = await withKeeperCreating(command, (keeper) =>
        importStore(keeper.store, { path: options.from, passphrase: secret, force: options.force }),
      )
      if (options.json) {
        return printJson({ apps: summary.apps, connections: summary.connections, file: summary.header })
      }
      out(
        `Imported ${summary.apps.imported.length} apps and ${summary.connections.imported.length} connections (file written ${summary.header.createdAt}).`,
      )
      for (const { name, reason } of summary.apps.skipped) say(`Skipped app ${name}: ${describe(reason)}.`)
      for (const { id, reason } of summary.connections.skipped)
        say(`Skipped connection ${id}: ${describe(reason)}.`)
      if (summary.apps.skipped.length + summary.connections.skipped.length > 0 && !options.force) {
        say('Pass --force to overwrite what was skipped for being newer.')
      }
    })
}

function describe(reason: string): string {
  switch (reason) {
    case 'newer_in_target':
      return 'this store holds newer data'
    case 'unchanged':
      return 'already the same here'
    case 'changed_during_import':
      return 'it changed here while importing'
    case 'unknown_app':
      return 'its app is not in this store'
    default:
      return reason
  }
}
