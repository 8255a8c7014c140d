// cli.coldStart: one whole `innkeeper token <id>` process on SQLite with a fresh token (nothing
// to refresh), from spawn to exit, beside a bare `node -e 0` started the same way; the two
// alternate within each round and the ratio is of their medians. It shows what a one-shot
// command pays for the modules it loads (the CLI loads only the command it runs). A third
// process, the floor (bench/children/cold-floor.js), does the least such a command can: load
// better-sqlite3 from an ES module and print one stored row.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Innkeeper } from '../../dist/index.js'
import { interleave, median } from '../lib/stats.js'
import {
  APP,
  appSettings,
  BENCH_KEYS,
  CLI,
  connectOne,
  ROOT,
  sqliteDir,
  startEmulatorProcess,
} from '../lib/world.js'

const FLOOR = join(ROOT, 'bench/children/cold-floor.js')

/** Runs `node …args` to its end; answers the wall time in ms and what it printed. */
function timeProcess(args, env) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    execFile(process.execPath, args, { env }, (error, stdout, stderr) => {
      const ms = performance.now() - start
      if (error) reject(new Error(`node ${args.join(' ')} failed: ${stderr || error.message}`))
      else resolve({ ms, stdout })
    })
  })
}

export async function coldStart({ quick }) {
  const emulator = await startEmulatorProcess()
  const dir = sqliteDir('cold')
  let id
  try {
    const keeper = await Innkeeper.open({ store: dir.url, keys: BENCH_KEYS })
    try {
      await keeper.apps.add(APP, appSettings(emulator.info))
      id = await connectOne(keeper, emulator, 'cold')
    } finally {
      await keeper.close()
    }
    // INNKEEPER_HOME is the bench's own directory: no provider files, no key file, nothing of the user's.
    const env = {
      PATH: process.env.PATH,
      INNKEEPER_HOME: dir.dir,
      INNKEEPER_STORE: dir.url,
      INNKEEPER_KEYS: BENCH_KEYS,
    }
    const tokens = new Set()
    const entries = {
      'innkeeper token': async () => {
        const { ms, stdout } = await timeProcess([CLI, 'token', id], env)
        tokens.add(stdout.trim())
        return ms
      },
      'node -e 0': async () => (await timeProcess(['-e', '0'], env)).ms,
      floor: async () => (await timeProcess([FLOOR, join(dir.dir, 'innkeeper.db')], env)).ms,
    }
    // Warm-up: the file system cache holds the modules before anything is recorded.
    for (const run of Object.values(entries)) await run()
    const rounds = await interleave(quick ? 3 : 11, entries)
    const before = await emulator.stats()
    if (tokens.size !== 1 || [...tokens][0] === '') {
      throw new Error(
        `innkeeper token printed ${tokens.size} different tokens; the token was meant to stay fresh`,
      )
    }
    const subject = median(rounds['innkeeper token'])
    const baseline = median(rounds['node -e 0'])
    const floor = median(rounds.floor)
    return {
      raw: { rounds, emulator: before },
      rows: [
        {
          id: 'cli.coldStart',
          measure: '`innkeeper token <id>` (SQLite, fresh token) ms vs `node -e 0`',
          unit: 'ms',
          subject,
          baseline,
          ratio: subject / baseline,
          ratioMeaning: 'subject/baseline (×slower)',
          target: '≤ 2×',
          met: subject / baseline <= 2,
          note: `the floor (an ES module that loads better-sqlite3, reads one row and prints it) takes ${floor.toFixed(1)} ms, ${(floor / baseline).toFixed(2)}× node -e 0`,
        },
        {
          id: 'cli.coldStart.floor',
          measure: 'floor: an ES module on better-sqlite3 printing one stored row, ms vs `node -e 0`',
          unit: 'ms',
          subject: floor,
          baseline,
          ratio: floor / baseline,
          ratioMeaning: 'subject/baseline (×slower)',
          target: '≤ 2×',
          met: floor / baseline <= 2,
          informational: true,
          note: 'bench/children/cold-floor.js: no library code, no argument parsing, no decryption',
        },
      ],
    }
  } finally {
    await emulator.close()
    await dir.drop()
  }
}
