// `innkeeper audit [--connection ID] [--since 24h|2026-01-01] [--json]`: who connected,
// refreshed, took a token, disconnected or rotated keys, newest first; `innkeeper audit prune`
// removes entries past the retention (INNKEEPER_AUDIT_RETENTION_DAYS, default 90).
import type { Command } from 'commander'
import { auditRetentionDays, parseSince } from '../../audit/retention.js'
import { InnkeeperError } from '../../errors.js'
import type { AuditEntry } from '../../stores/store.js'
import { withKeeper } from '../keeper.js'
import { formatTime, out, printJson, printTable, say } from '../output.js'

interface ListOptions {
  connection?: string
  since?: string
  limit: number
  json?: boolean
}

function detailText(entry: AuditEntry): string {
  if (!entry.detail) return ''
  return Object.entries(entry.detail)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')
}

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit trail: who connected, refreshed, took a token, disconnected or rotated keys')

  audit
    .command('list', { isDefault: true })
    .description('list audit entries, newest first (the default)')
    .option('--connection <id>', 'only this connection (<app>/<name>)')
    .option('--since <when>', 'only entries since a duration ago (24h, 7d) or a date (2026-01-01)')
    .option('--limit <n>', 'at most this many entries', (value) => Number.parseInt(value, 10), 100)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  innkeeper audit --since 24h\n  innkeeper audit --connection smily/main --json',
    )
    .action(async (options: ListOptions, command: Command) => {
      if (!Number.isInteger(options.limit) || options.limit <= 0) {
        throw new InnkeeperError('invalid_config', '--limit must be a positive whole number.')
      }
      await withKeeper(command, async (keeper) => {
        const entries = await keeper.audit.list({
          ...(options.connection ? { connection: options.connection } : {}),
          ...(options.since ? { since: parseSince(options.since, keeper.now()) } : {}),
          limit: options.limit,
        })
        if (options.json) return printJson(entries)
        if (entries.length === 0) return say('No audit entries match.')
        printTable(entries, [
          { header: 'time', value: (entry) => formatTime(entry.at, keeper.now()) },
          { header: 'actor', value: (entry) => entry.actor },
          { header: 'action', value: (entry) => entry.action },
          { header: 'connection', value: (entry) => entry.connection ?? '-' },
          { header: 'outcome', value: (entry) => entry.outcome },
          { header: 'detail', value: detailText },
        ])
      })
    })

  audit
    .command('prune')
    .description('remove entries older than the retention (INNKEEPER_AUDIT_RETENTION_DAYS, default 90)')
    .option('--days <n>', 'keep this many days instead', (value) => Number(value))
    .addHelpText('after', '\nExample:\n  innkeeper audit prune --days 30')
    .action(async (options: { days?: number }, command: Command) => {
      const days = options.days ?? auditRetentionDays()
      if (!Number.isFinite(days) || days <= 0) {
        throw new InnkeeperError('invalid_config', '--days must be a positive number.')
      }
      const removed = await withKeeper(command, (keeper) => keeper.audit.prune(days))
      out(`Removed ${removed} audit entries older than ${days} days.`)
    })
}
