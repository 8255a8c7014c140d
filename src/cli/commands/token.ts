// `innkeeper token <conn>`: prints only a valid access token and a newline (renewed first if due),
// for `curl -H "Authorization: Bearer $(innkeeper token acme/main)" …`. The one command that
// prints a secret, because it is asked to.
import type { Command } from 'commander'
import { withKeeper } from '../keeper.js'

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('print a valid access token (refreshing first if due) and nothing else')
    .argument('<connection>', '<app>/<name>, or <app> for <app>/main')
    .addHelpText(
      'after',
      '\nExample:\n  curl -H "Authorization: Bearer $(innkeeper token smily/main)" https://www.bookingsync.com/api/v3/rentals',
    )
    .action(async (id: string, _options: unknown, command: Command) => {
      // `token()`, not `accessToken()`: handing a token out is recorded in the audit trail.
      const token = await withKeeper(command, (keeper) => keeper.connection(id).token())
      process.stdout.write(`${token.accessToken}\n`)
    })
}
