// `innkeeper worker`: the background refresher as a long-running process. It claims connections
// whose tokens are due (several workers on one PostgreSQL or Redis store share the load, and the
// store's claims and leases keep any connection from being refreshed twice for one expiry),
// renews them, logs one JSON line (pino, stderr) per round that did work and a summary at exit.
// SIGTERM/SIGINT: stop claiming, finish what is in flight, release every lease, close the store,
// exit 0. A second signal exits at once (leases then lapse after --lease-ms).
import type { Command } from 'commander'
import type { RefresherStats } from '../../connections/refresher.js'
import { ConfigError } from '../../errors.js'
import { Innkeeper } from '../../innkeeper.js'
import type { ConnectionInfo } from '../../model/connection.js'
import { DEFAULT_TOKEN_TIMEOUT_MS } from '../../oauth/index.js'
import { storeOption } from '../keeper.js'

interface WorkerOptions {
  concurrency: string
  maxConcurrencyPerApp: string
  batch: string
  idleMs: string
  leaseMs: string
  once?: boolean
  allowPrivateWebhooks?: boolean
}

/** How often the worker looks at the refresher's counters to log finished rounds. */
const ROUND_POLL_MS = 50

function positiveInteger(name: string, value: string, min = 1): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < min) {
    throw new ConfigError(
      'invalid_config',
      `--${name} must be a whole number of at least ${min} (got "${value}").`,
    )
  }
  return number
}

type Counters = Omit<RefresherStats, 'rounds'>

function difference(now: RefresherStats, before: RefresherStats): Counters & { rounds: number } {
  return {
    rounds: now.rounds - before.rounds,
    claimed: now.claimed - before.claimed,
    refreshed: now.refreshed - before.refreshed,
    failed: now.failed - before.failed,
    needsReauth: now.needsReauth - before.needsReauth,
    unreadable: now.unreadable - before.unreadable,
    deferred: now.deferred - before.deferred,
  }
}

/** Public facts only: the connection's id, state and error code/message (never a token). */
function connectionFields(info: ConnectionInfo): Record<string, unknown> {
  const { lastError } = info
  return {
    connection: info.id,
    state: info.state,
    ...(lastError ? { error: { code: lastError.code, message: lastError.message } } : {}),
  }
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'keep every connection fresh in the background; run several on one PostgreSQL or Redis store',
    )
    .option('--concurrency <n>', 'refreshes at once at most, all apps together', '64')
    .option(
      '--max-concurrency-per-app <n>',
      'refreshes at once per app at most; below it the number adapts to the platform (429s, 5xx, latency)',
      '32',
    )
    .option('--batch <n>', 'connections claimed per round', '50')
    .option('--idle-ms <ms>', 'pause between rounds when nothing was due', '1000')
    .option(
      '--lease-ms <ms>',
      'lease on each claimed connection; keep it above the token request timeout (15 s) times the retries',
      '60000',
    )
    .option('--once', 'run one round and exit')
    .option(
      '--allow-private-webhooks',
      'deliver webhooks to private, loopback and link-local addresses too (env INNKEEPER_ALLOW_PRIVATE_WEBHOOKS=1)',
    )
    .addHelpText(
      'after',
      `
Logs one JSON line per round that did work, and a summary at exit, on stderr (no secrets).
SIGTERM or Ctrl-C finishes the refreshes in flight, releases their leases and exits 0.

Examples:
  innkeeper worker --store postgres://innkeeper@db:5432/innkeeper?schema=innkeeper
  innkeeper worker --store redis://cache:6379/0 --concurrency 16
  innkeeper worker --store sqlite:./innkeeper.db --once       # e.g. from cron
See docs/workers.md.`,
    )
    .action(async (options: WorkerOptions, command: Command) => {
      const concurrency = positiveInteger('concurrency', options.concurrency)
      const maxConcurrencyPerApp = positiveInteger('max-concurrency-per-app', options.maxConcurrencyPerApp)
      const batchSize = positiveInteger('batch', options.batch)
      const idleMs = positiveInteger('idle-ms', options.idleMs, 0)
      const leaseMs = positiveInteger('lease-ms', options.leaseMs, 100)
      // Loaded here, not at start-up: other commands need not pay for the logger.
      const { default: pino } = await import('pino')
      const log = pino(
        { base: { pid: process.pid, name: 'innkeeper-worker' }, timestamp: pino.stdTimeFunctions.isoTime },
        pino.destination({ fd: 2, sync: true }),
      )
      if (leaseMs < DEFAULT_TOKEN_TIMEOUT_MS) {
        log.warn(
          { leaseMs, tokenTimeoutMs: DEFAULT_TOKEN_TIMEOUT_MS },
          'lease shorter than the token request timeout: a slow provider could see two refreshes (see docs/workers.md)',
        )
      }

      const keeper = await Innkeeper.open({
        store: storeOption(command),
        leaseMs,
        ...(options.allowPrivateWebhooks ? { allowPrivateWebhooks: true } : {}),
      })
      const durability = await keeper.store.durabilityWarning().catch(() => undefined)
      if (durability) log.warn({ store: keeper.store.kind }, durability)
      keeper.on('needs_reauth', (info) =>
        log.warn(connectionFields(info), 'connection needs a new authorization'),
      )
      keeper.on('error', (info) =>
        log.warn(connectionFields(info), 'refresh failed; will retry with backoff'),
      )
      keeper.on('recovered', (info) => log.info(connectionFields(info), 'connection recovered'))
      // Once per connection and key: it is skipped (its lease left to lapse) and the rest go on.
      keeper.on('unreadable', (info, { keyId }) =>
        log.error(
          { ...connectionFields(info), keyId },
          'skipping a connection sealed with a key this worker does not have; restore that key',
        ),
      )

      const started = Date.now()
      const refresher = keeper.startRefresher({
        concurrency,
        maxConcurrencyPerApp,
        batchSize,
        idleMs,
        leaseMs,
      })
      const webhooks = keeper.startWebhookDispatcher({ idleMs })

      // One line per finished round that did work. `rounds` and `claimed` move when a round has
      // claimed; the round is finished once every claimed connection is counted as refreshed,
      // failed or needing re-authorization. Rounds back to back may share a line.
      let logged: RefresherStats = {
        claimed: 0,
        refreshed: 0,
        failed: 0,
        needsReauth: 0,
        unreadable: 0,
        rounds: 0,
        deferred: 0,
      }
      const logRounds = () => {
        const now = { ...refresher.stats }
        const settled =
          now.refreshed + now.failed + now.needsReauth + now.unreadable + now.deferred >= now.claimed
        if (!settled || (now.rounds === logged.rounds && now.claimed === logged.claimed)) return
        const delta = difference(now, logged)
        logged = now
        if (
          delta.claimed > 0 ||
          delta.refreshed > 0 ||
          delta.failed > 0 ||
          delta.needsReauth > 0 ||
          delta.unreadable > 0 ||
          delta.deferred > 0
        )
          log.info({ round: now.rounds, ...delta, concurrencyPerApp: refresher.concurrency }, 'round')
      }
      const poll = setInterval(logRounds, ROUND_POLL_MS)

      let stopping: Promise<void> | undefined
      const stop = (reason: string): Promise<void> => {
        stopping ??= (async () => {
          log.info({ reason }, 'stopping: finishing refreshes in flight and releasing leases')
          await Promise.all([refresher.stop(), webhooks.stop()])
          clearInterval(poll)
          logRounds()
          await keeper.close()
          log.info(
            {
              ...refresher.stats,
              concurrencyPerApp: refresher.concurrency,
              durationMs: Date.now() - started,
              reason,
            },
            'worker stopped',
          )
        })()
        return stopping
      }
      let signalled: (signal: NodeJS.Signals) => void = () => {}
      let signals = 0
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1
        if (signals > 1) {
          log.warn({ signal }, 'second signal: exiting now; held leases lapse after --lease-ms')
          process.exit(1)
        }
        signalled(signal)
      }
      process.on('SIGTERM', onSignal)
      process.on('SIGINT', onSignal)
      // Only now: whoever waits for this line may signal at once, and the handlers are in place.
      log.info(
        {
          store: keeper.store.kind,
          concurrency,
          maxConcurrencyPerApp,
          batch: batchSize,
          idleMs,
          leaseMs,
          once: Boolean(options.once),
        },
        'worker started',
      )
      try {
        // --once: the loop has already begun its first round; stopping now lets exactly that round finish.
        const reason = options.once
          ? 'once'
          : await new Promise<NodeJS.Signals>((resolve) => {
              signalled = resolve
            })
        await stop(reason)
      } finally {
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', onSignal)
      }
    })
}
