// `innkeeper connections`: every connection with its app, state, scopes, access expiry, last
// refresh and last error; a table for people, `--json` for programs.
import type { Command } from 'commander'
import { withKeeper } from '../keeper.js'
import { formatState, formatTime, printJson, printTable, say } from '../output.js'

export function registerConnections(program: Command): void {
  program
    .command('connections')
    .description('list connections with their state, scopes, expiry, last refresh and last error')
    .option('--app <app>', 'only this app’s connections')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  innkeeper connections\n  innkeeper connections --app smily --json')
    .action(async (options: { app?: string; json?: boolean }, command: Command) => {
      const list = await withKeeper(command, async (keeper) => {
        if (options.app) await keeper.apps.get(options.app)
        return keeper.connections(options.app ? { app: options.app } : {})
      })
      if (options.json) return printJson(list)
      if (list.length === 0) {
        say('No connections yet. Make one with `innkeeper connect <app>`.')
        return
      }
      const now = Date.now()
      printTable(list, [
        { header: 'connection', value: (c) => c.id },
        { header: 'provider', value: (c) => c.provider },
        { header: 'state', value: (c) => formatState(c.state) },
        { header: 'scopes', value: (c) => c.scopes.join(' ') || '-' },
        { header: 'access expires', value: (c) => formatTime(c.accessTokenExpiresAt, now) },
        { header: 'last refresh', value: (c) => formatTime(c.lastRefreshAt, now) },
        { header: 'last error', value: (c) => c.lastError?.message ?? '-' },
      ])
    })
}
