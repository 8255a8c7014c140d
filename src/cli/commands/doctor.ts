// `innkeeper doctor`: checks the Node.js version, the store, the encryption key, the apps and the
// connections, and names the command that fixes each problem. Exits 0 when nothing needs
// attention, 3 when a person must authorize a connection again, 1 for any other problem.
import { statSync } from 'node:fs'
import type { Command } from 'commander'
import { resolveApp } from '../../connections/context.js'
import { resolveHome } from '../../connections/home.js'
import { reconnectCommand } from '../../connections/reconnect.js'
import { Innkeeper } from '../../innkeeper.js'
import type { ConnectionInfo } from '../../model/connection.js'
import { findProvider, getProvider } from '../../providers/registry.js'
import { EXIT } from '../exit-codes.js'
import { storeOption } from '../keeper.js'
import { out, paint, printJson } from '../output.js'

type Status = 'ok' | 'warn' | 'fail'

interface Check {
  check: string
  status: Status
  message: string
  fix?: string
  /** Exit code this problem maps to when it is the worst one. */
  exitCode?: number
}

/** A refresh token with less than this left is worth a warning. */
const REFRESH_TOKEN_WARNING_MS = 7 * 86_400_000

/**
 * The maintained LTS lines Innkeeper is tested on, as package.json `engines` says
 * (`^22.12.0 || >=24`). An older Node is a note, not a failure: it may well work, but it gets no
 * security fixes and is not tested.
 */
function nodeCheck(version = process.versions.node): Check {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  if (major >= 24 || (major === 22 && minor >= 12)) {
    return { check: 'node', status: 'ok', message: `Node.js v${version} is a supported version.` }
  }
  return {
    check: 'node',
    status: 'warn',
    message: `Node.js v${version} is not supported; Innkeeper is tested on the maintained LTS lines, Node.js 22 (from 22.12) and 24; lines past their end of life get no security fixes.`,
  }
}

function keyChecks(env = process.env): Check[] {
  const where = resolveHome({}, env)
  if (where.keys?.trim()) {
    return [{ check: 'key', status: 'ok', message: 'Encryption keys come from INNKEEPER_KEYS.' }]
  }
  let mode: number
  try {
    mode = statSync(where.keyFile).mode
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return [
        {
          check: 'key',
          status: 'warn',
          message: `No key file at ${where.keyFile} yet; one is created on first use. Back it up: without it the stored secrets cannot be read.`,
        },
      ]
    }
    return [
      {
        check: 'key',
        status: 'fail',
        message: `The key file ${where.keyFile} cannot be read (${(error as NodeJS.ErrnoException).code}).`,
        fix: `ls -l ${where.keyFile}`,
        exitCode: EXIT.unexpected,
      },
    ]
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    return [
      {
        check: 'key',
        status: 'fail',
        message: `The key file ${where.keyFile} can be read by other users (mode ${(mode & 0o777).toString(8)}).`,
        fix: `chmod 600 ${where.keyFile}`,
        exitCode: EXIT.unexpected,
      },
    ]
  }
  return [{ check: 'key', status: 'ok', message: `Key file ${where.keyFile} is private (mode 600).` }]
}

function connectionChecks(connections: ConnectionInfo[], now: number): Check[] {
  const checks: Check[] = []
  for (const connection of connections) {
    const reconnect = reconnectCommand(connection, findProvider(connection.provider))
    const clientCredentials = (() => {
      try {
        return getProvider(connection.provider).connect === 'client_credentials'
      } catch {
        return false
      }
    })()
    const check = `connection ${connection.id}`
    if (connection.state === 'needs_reauth' || connection.state === 'revoked') {
      checks.push({
        check,
        status: 'fail',
        message: `${connection.id} must be authorized again${connection.lastError ? `: ${connection.lastError.message}` : '.'}`,
        fix: reconnect,
        exitCode: EXIT.needsAuthorization,
      })
    } else if (connection.state === 'error') {
      checks.push({
        check,
        status: 'fail',
        message: `${connection.id} failed to refresh${connection.lastError ? `: ${connection.lastError.message}` : '.'}`,
        fix: `innkeeper refresh ${connection.id}`,
        exitCode: EXIT.unexpected,
      })
    } else if (
      connection.refreshTokenExpiresAt !== null &&
      connection.refreshTokenExpiresAt - now < REFRESH_TOKEN_WARNING_MS
    ) {
      checks.push({
        check,
        status: 'fail',
        message: `${connection.id}'s refresh token ${connection.refreshTokenExpiresAt <= now ? 'has expired' : 'expires within 7 days'}.`,
        fix: clientCredentials ? `innkeeper refresh ${connection.id}` : reconnect,
        exitCode: EXIT.unexpected,
      })
    } else {
      checks.push({ check, status: 'ok', message: `${connection.id} is ${connection.state}.` })
    }
  }
  return checks
}

async function storeChecks(store: string | undefined, now: number): Promise<Check[]> {
  let keeper: Innkeeper
  try {
    keeper = await Innkeeper.open({ store, create: false })
  } catch (error) {
    return [
      {
        check: 'store',
        status: 'fail',
        message: `The store cannot be opened: ${error instanceof Error ? error.message : String(error)}`,
        fix: 'innkeeper --store sqlite:PATH doctor   # or set INNKEEPER_STORE',
        exitCode: EXIT.unexpected,
      },
    ]
  }
  try {
    const checks: Check[] = []
    const records = await keeper.store.listApps()
    checks.push({ check: 'store', status: 'ok', message: `The store is reachable (${records.length} apps).` })
    const durability = await keeper.store.durabilityWarning()
    if (durability) {
      checks.push({
        check: 'store durability',
        status: 'warn',
        message: durability,
        fix: 'redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE   # and see docs/stores.md',
      })
    }
    for (const record of records) {
      try {
        resolveApp(record)
        checks.push({
          check: `app ${record.name}`,
          status: 'ok',
          message: `${record.name} (${record.provider}) is valid.`,
        })
      } catch (error) {
        checks.push({
          check: `app ${record.name}`,
          status: 'fail',
          message: `${record.name} is not usable: ${error instanceof Error ? error.message : String(error)}`,
          fix: `innkeeper apps add ${record.name} --provider ${record.provider} --client-id … (with the missing settings)`,
          exitCode: EXIT.unexpected,
        })
      }
    }
    checks.push(...connectionChecks(await keeper.connections(), now))
    checks.push(...journalChecks(keeper))
    return checks
  } catch (error) {
    return [
      {
        check: 'store',
        status: 'fail',
        message: `The store could not be read: ${error instanceof Error ? error.message : String(error)}`,
        exitCode: EXIT.unexpected,
      },
    ]
  } finally {
    await keeper.close()
  }
}

/** Refreshed token sets the store refused, waiting in the recovery journal (docs/operations.md). */
function journalChecks(keeper: Innkeeper): Check[] {
  return keeper.recoveryJournal().map((entry) =>
    entry.status === 'pending'
      ? {
          check: `recovery ${entry.connection}`,
          status: 'fail' as const,
          message: `Renewed tokens of ${entry.connection} (since ${new Date(entry.createdAt).toISOString()}) are kept in ${entry.path}: the store refused them. They go in on the next use of the connection on this machine once the store accepts writes; do not refresh it from another machine until then.`,
          fix: `innkeeper refresh ${entry.connection}`,
          exitCode: EXIT.unexpected,
        }
      : {
          check: `recovery ${entry.connection}`,
          status: 'warn' as const,
          message: `${entry.path} holds renewed tokens of ${entry.connection} that do not belong to this store (another store or key, or the connection was connected again since). Check it with that store's doctor, or delete the file once no store needs it.`,
        },
  )
}

const MARK: Record<Status, [string, Parameters<typeof paint>[0]]> = {
  ok: ['ok', 'green'],
  warn: ['note', 'yellow'],
  fail: ['fix', 'red'],
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the store, the key, the apps and the connections; say what to fix')
    .option('--json', 'print the checks as JSON')
    .addHelpText('after', '\nExample:\n  innkeeper doctor || echo "something needs attention"')
    .action(async (options: { json?: boolean }, command: Command) => {
      const now = Date.now()
      const checks = [nodeCheck(), ...keyChecks(), ...(await storeChecks(storeOption(command), now))]
      const problems = checks.filter((check) => check.status === 'fail')
      if (options.json) {
        printJson(checks.map(({ exitCode: _, ...rest }) => rest))
      } else {
        for (const check of checks) {
          const [label, style] = MARK[check.status]
          out(`${paint(style, label.padEnd(4))} ${check.message}`)
          if (check.fix) out(`     run: ${check.fix}`)
        }
        out(
          problems.length === 0
            ? 'Nothing needs attention.'
            : `${problems.length} thing${problems.length > 1 ? 's need' : ' needs'} attention.`,
        )
      }
      if (problems.length > 0) {
        process.exitCode = problems.some((p) => p.exitCode === EXIT.needsAuthorization)
          ? EXIT.needsAuthorization
          : EXIT.unexpected
      }
    })
}
