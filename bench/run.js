// `npm run bench`: runs every benchmark suite against the built library (dist/), each figure
// beside its baseline measured in the same run on the same machine (medians of interleaved
// rounds, and their ratio), prints one table and writes bench/results.json; every goal id of
// issue 15 (bench/goals.js) is in it, or a failed row says which is missing.
//   node bench/run.js [--suite] <name> …   some suites only (a name also selects its `<name>-…`
//                                          family: `scale` = scale-ladder, scale-real, scale-1m);
//                                          the other suites' figures already in the file are kept;
//                                          opt-in suites (OPT_IN) run only when named exactly
//   --full                                 long runs (the million connections until their backlog
//                                          is gone, the ladder to 100k) into bench/results-full.json
//   --list                                 the suites and the goal ids each produces
//   --markdown [file] [--all]              the goals of a results file as a markdown table for
//                                          README's Performance section (every row with --all)
// BENCH_QUICK=1 uses small sizes (not for the record).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { GOALS } from './goals.js'
import { markdownTable, missingGoals, printTable } from './lib/report.js'
import { ROOT } from './lib/world.js'

const SUITES = {
  'hot-path': () => import('./suites/hot-path.js').then((m) => m.hotPath),
  refresh: () => import('./suites/refresh.js').then((m) => m.refresh),
  herd: () => import('./suites/herd.js').then((m) => m.herd),
  'token-api': () => import('./suites/token-api.js').then((m) => m.tokenApi),
  'scale-ladder': () => import('./suites/scale.js').then((m) => m.scale),
  'scale-real': () => import('./suites/scale-real.js').then((m) => m.scaleReal),
  'scale-1m': () => import('./suites/scale-million.js').then((m) => m.scaleMillion),
  'scale-redis': () => import('./suites/scale-redis.js').then((m) => m.scaleRedis),
  memory: () => import('./suites/memory.js').then((m) => m.memory),
  'cold-start': () => import('./suites/cold-start.js').then((m) => m.coldStart),
  'idle-writes': () => import('./suites/idle-writes.js').then((m) => m.idleWrites),
}
/** Suites left out of the default run and of families (`scale`): they run only when named. */
const OPT_IN = new Set(['scale-redis'])

const args = process.argv.slice(2)
const flag = (name) => {
  const at = args.indexOf(name)
  if (at >= 0) args.splice(at, 1)
  return at >= 0
}
const quick = process.env.BENCH_QUICK === '1'
const full = flag('--full')
const all = flag('--all')
flag('--suite')

if (flag('--list')) {
  for (const name of Object.keys(SUITES)) {
    const ids = GOALS.filter((goal) => goal.suite === name).map((goal) => goal.id)
    const optIn = OPT_IN.has(name) ? ' (opt-in: runs only when named, not in `npm run bench`)' : ''
    console.log(`${name.padEnd(13)} ${ids.length > 0 ? ids.join(', ') : '(no goal ids)'}${optIn}`)
  }
  process.exit(0)
}
if (flag('--markdown')) {
  const file = args[0] ?? join(ROOT, 'bench/results.json')
  console.log(markdownTable(JSON.parse(readFileSync(file, 'utf8')), { all }))
  process.exit(0)
}

const names = []
for (const wanted of args) {
  const family = SUITES[wanted]
    ? [wanted]
    : Object.keys(SUITES).filter((name) => name.startsWith(`${wanted}-`) && !OPT_IN.has(name))
  if (family.length === 0) {
    console.error(
      `Unknown suite "${wanted}". Choose from: ${Object.keys(SUITES).join(', ')} (or a family: scale).`,
    )
    process.exit(2)
  }
  for (const name of family) if (!names.includes(name)) names.push(name)
}
const partial = names.length > 0
if (!partial) names.push(...Object.keys(SUITES).filter((name) => !OPT_IN.has(name)))

// Every suite and the processes it starts use a fresh INNKEEPER_HOME of this run, never the
// user's: a recovery journal or provider file left there would be read by every keeper opened.
const benchHome = mkdtempSync(join(tmpdir(), 'innkeeper-bench-home-'))
process.env.INNKEEPER_HOME = benchHome
const startedAt = new Date()
const load = loadavg().map((value) => Number(value.toFixed(2)))
const began = performance.now()
const suites = {}
const rows = []
for (const name of names) {
  const t0 = performance.now()
  process.stderr.write(`[bench] ${name} …\n`)
  try {
    const run = await SUITES[name]()
    const result = await run({ quick, full })
    const durationMs = Math.round(performance.now() - t0)
    suites[name] = { durationMs, ...result }
    rows.push(...result.rows.map((row) => ({ suite: name, ...row })))
    process.stderr.write(`[bench] ${name} done in ${(durationMs / 1000).toFixed(1)} s\n`)
  } catch (error) {
    const durationMs = Math.round(performance.now() - t0)
    suites[name] = { durationMs, error: String(error?.stack ?? error) }
    rows.push({
      suite: name,
      id: `${name}.error`,
      measure: `${name}: FAILED (${error?.message ?? error})`,
      met: false,
    })
    process.stderr.write(`[bench] ${name} failed: ${error?.stack ?? error}\n`)
  }
}
rows.push(...missingGoals(names, rows))
rmSync(benchHome, { recursive: true, force: true })
const totalMs = Math.round(performance.now() - began)

printTable(rows)
console.log('')
console.log(
  `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average at the start ${load.join(' / ')}; ` +
    `${(totalMs / 1000).toFixed(1)} s in all${quick ? ' (BENCH_QUICK: small sizes, not for the record)' : ''}${full ? ' (--full)' : ''}.`,
)

const results = {
  timestamp: startedAt.toISOString(),
  quick,
  full,
  durationMs: totalMs,
  load,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  },
  note: 'Ratios are medians of interleaved rounds (subject and baseline alternate within each round).',
  table: rows,
  suites,
}
const out = join(ROOT, full ? 'bench/results-full.json' : 'bench/results.json')
if (partial && existsSync(out)) {
  // A partial run replaces its own suites' figures and keeps the others (each suite records when it ran).
  const previous = JSON.parse(readFileSync(out, 'utf8'))
  // The kept suites keep the time of the run that measured them (the file's timestamp is this run's).
  for (const suite of Object.values(previous.suites ?? {})) suite.timestamp ??= previous.timestamp
  for (const name of names) suites[name].timestamp = startedAt.toISOString()
  results.suites = { ...previous.suites, ...suites }
  results.table = [...(previous.table ?? []).filter((row) => !names.includes(row.suite)), ...rows]
  results.partial = { suites: names, previousTimestamp: previous.timestamp }
}
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
console.log(`Wrote ${out}`)
if (rows.some((row) => row.id?.endsWith('.error') || row.measure?.includes('NOT MEASURED')))
  process.exitCode = 1
