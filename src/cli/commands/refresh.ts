// `innkeeper refresh <conn> | --all`: renews now. With `--all`, a progress bar on a terminal
// (plain lines when piped) and a summary at the end; exits non-zero when any refresh failed.
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { ConfigError, isInnkeeperError } from '../../errors.js'
import { exitCodeFor } from '../exit-codes.js'
import { withKeeper } from '../keeper.js'
import { formatTime, out, paint, printJson, say } from '../output.js'

interface RefreshOutcome {
  id: string
  ok: boolean
  accessTokenExpiresAt?: number | null
  error?: { code: string; message: string }
  exitCode?: number
}

function describeError(error: unknown): { code: string; message: string } {
  return isInnkeeperError(error)
    ? { code: error.code, message: error.message }
    : { code: 'unexpected', message: error instanceof Error ? error.message : String(error) }
}

export function registerRefresh(program: Command): void {
  program
    .command('refresh')
    .description('refresh a connection now, or every connection with --all')
    .argument('[connection]', '<app>/<name>, or <app> for <app>/main')
    .option('--all', 'refresh every connection')
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', '\nExamples:\n  innkeeper refresh smily/main\n  innkeeper refresh --all --json')
    .action(async (id: string | undefined, options: { all?: boolean; json?: boolean }, command: Command) => {
      if (Boolean(id) === Boolean(options.all)) {
        throw new ConfigError('invalid_config', 'Name one connection to refresh, or give --all (not both).')
      }
      const outcomes = await withKeeper(command, async (keeper) => {
        const ids = id ? [id] : (await keeper.connections()).map((info) => info.id)
        const bar =
          options.all && process.stderr.isTTY && ids.length > 0
            ? new cliProgress.SingleBar(
                {
                  format: 'Refreshing [{bar}] {value}/{total} {id}',
                  stream: process.stderr,
                  clearOnComplete: true,
                },
                cliProgress.Presets.shades_classic,
              )
            : undefined
        bar?.start(ids.length, 0, { id: '' })
        const results: RefreshOutcome[] = []
        for (const each of ids) {
          bar?.update({ id: each })
          try {
            const info = await keeper.connection(each).refresh()
            results.push({ id: info.id, ok: true, accessTokenExpiresAt: info.accessTokenExpiresAt })
          } catch (error) {
            if (!options.all) throw error
            results.push({ id: each, ok: false, error: describeError(error), exitCode: exitCodeFor(error) })
          }
          bar?.increment()
        }
        bar?.stop()
        return results
      })
      const failed = outcomes.filter((outcome) => !outcome.ok)
      if (options.json) {
        printJson(outcomes.map(({ exitCode: _, ...rest }) => rest))
      } else if (!options.all) {
        const [only] = outcomes
        out(`Refreshed ${only?.id}; access token valid until ${formatTime(only?.accessTokenExpiresAt)}.`)
      } else {
        for (const outcome of outcomes) {
          out(
            outcome.ok
              ? `${paint('green', 'ok')}\t${outcome.id}\t${formatTime(outcome.accessTokenExpiresAt)}`
              : `${paint('red', 'failed')}\t${outcome.id}\t${outcome.error?.message}`,
          )
        }
        const summary =
          outcomes.length === 0
            ? 'No connections to refresh.'
            : `Refreshed ${outcomes.length - failed.length} of ${outcomes.length} connection${outcomes.length === 1 ? '' : 's'}${failed.length > 0 ? `; ${failed.length} failed (see above)` : ''}.`
        say(summary)
      }
      if (failed.length > 0) process.exitCode = Math.max(...failed.map((outcome) => outcome.exitCode ?? 1))
    })
}
