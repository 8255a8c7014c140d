// `innkeeper show <conn>`: one connection in full (never its tokens).
import type { Command } from 'commander'
import { withKeeper } from '../keeper.js'
import { formatState, formatTime, printFields, printJson } from '../output.js'

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('show one connection: state, scopes, expiry, metadata, last error (never tokens)')
    .argument('<connection>', '<app>/<name>, or <app> for <app>/main')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  innkeeper show smily/main --json')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const info = await withKeeper(command, (keeper) => keeper.connection(id).info())
      if (options.json) return printJson(info)
      const now = Date.now()
      const fields: [string, string][] = [
        ['connection', info.id],
        ['provider', info.provider],
        ['state', formatState(info.state)],
        ['scopes', info.scopes.join(' ') || '-'],
        ['access expires', formatTime(info.accessTokenExpiresAt, now)],
        ['refresh token', info.hasRefreshToken ? 'yes' : 'no'],
        ['refresh token expires', formatTime(info.refreshTokenExpiresAt, now)],
        ['last refresh', formatTime(info.lastRefreshAt, now)],
        ['next refresh', formatTime(info.refreshDueAt, now)],
        ['last error', info.lastError ? `${info.lastError.code}: ${info.lastError.message}` : '-'],
        ['created', formatTime(info.createdAt, now)],
      ]
      for (const [key, value] of Object.entries(info.metadata)) {
        fields.push([key, Array.isArray(value) ? value.join(', ') : String(value)])
      }
      printFields(fields)
    })
}
