// `npm run bench`: runs every benchmark suite against the built library (dist/), each figure
// beside its baseline measured in the same run on the same machine (medians of interleaved
// rounds, and their ratio), prints one table and writes bench/results.json.
// `node bench/run.js [suite …]` (or `--suite <name>`) runs some suites only and keeps the other
// suites' figures already in results.json; BENCH_QUICK=1 uses small sizes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { round3 } from './lib/stats.js'
import { ROOT } from './lib/world.js'

const SUITES = {
  'hot-path': () => import('./suites/hot-path.js').then((m) => m.hotPath),
  refresh: () => import('./suites/refresh.js').then((m) => m.refresh),
  herd: () => import('./suites/herd.js').then((m) => m.herd),
  'token-api': () => import('./suites/token-api.js').then((m) => m.tokenApi),
  scale: () => import('./suites/scale.js').then((m) => m.scale),
  'scale-real': () => import('./suites/scale-real.js').then((m) => m.scaleReal),
  'scale-1m': () => import('./suites/scale-million.js').then((m) => m.scaleMillion),
  memory: () => import('./suites/memory.js').then((m) => m.memory),
  'cold-start': () => import('./suites/cold-start.js').then((m) => m.coldStart),
}

const quick = process.env.BENCH_QUICK === '1'
const wanted = process.argv.slice(2).filter((arg) => arg !== '--suite')
for (const name of wanted) {
  if (!SUITES[name]) {
    console.error(`Unknown suite "${name}". Choose from: ${Object.keys(SUITES).join(', ')}.`)
    process.exit(2)
  }
}
const names = wanted.length > 0 ? wanted : Object.keys(SUITES)

const startedAt = new Date()
const began = performance.now()
const suites = {}
const rows = []
for (const name of names) {
  const t0 = performance.now()
  process.stderr.write(`[bench] ${name} …\n`)
  try {
    const run = await SUITES[name]()
    const result = await run({ quick })
    const durationMs = Math.round(performance.now() - t0)
    suites[name] = { durationMs, ...result }
    rows.push(...result.rows.map((row) => ({ suite: name, ...row })))
    process.stderr.write(`[bench] ${name} done in ${(durationMs / 1000).toFixed(1)} s\n`)
  } catch (error) {
    const durationMs = Math.round(performance.now() - t0)
    suites[name] = { durationMs, error: String(error?.stack ?? error) }
    rows.push({ suite: name, id: `${name}.error`, measure: `${name}: FAILED (${error?.message ?? error})` })
    process.stderr.write(`[bench] ${name} failed: ${error?.stack ?? error}\n`)
  }
}
const totalMs = Math.round(performance.now() - began)

function formatNumber(value, unit) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value === undefined ? '' : String(value)
  if (unit === 'bytes') return `${(value / 1024 / 1024).toFixed(1)} MB`
  return String(round3(value))
}

const header = ['measure', 'subject', 'baseline', 'ratio', 'target', 'met?']
const table = rows.map((row) => [
  row.measure,
  row.subject === undefined
    ? ''
    : `${formatNumber(row.subject, row.unit)}${row.unit && row.unit !== 'bytes' ? ` ${row.unit}` : ''}`,
  row.baseline === undefined
    ? ''
    : `${formatNumber(row.baseline, row.unit)}${row.unit && row.unit !== 'bytes' ? ` ${row.unit}` : ''}`,
  typeof row.ratio === 'number' ? `${round3(row.ratio)}×` : '',
  row.target ?? '',
  row.met === undefined
    ? ''
    : row.met
      ? row.informational
        ? 'yes (info)'
        : 'yes'
      : row.informational
        ? 'no (info)'
        : 'NO',
])
const widths = header.map((title, i) =>
  Math.max(title.length, ...table.map((cells) => String(cells[i]).length)),
)
const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`
console.log('')
console.log(line(header))
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`)
for (const cells of table) console.log(line(cells))
for (const row of rows) if (row.note) console.log(`  * ${row.measure}: ${row.note}`)
console.log('')
console.log(
  `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ` +
    `${(totalMs / 1000).toFixed(1)} s in all${quick ? ' (BENCH_QUICK: small sizes, not for the record)' : ''}.`,
)

const results = {
  timestamp: startedAt.toISOString(),
  quick,
  durationMs: totalMs,
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
const out = join(ROOT, 'bench/results.json')
if (wanted.length > 0 && existsSync(out)) {
  // A partial run replaces its own suites' figures and keeps the others (each suite records when it ran).
  const previous = JSON.parse(readFileSync(out, 'utf8'))
  for (const name of names) suites[name].timestamp = startedAt.toISOString()
  results.suites = { ...previous.suites, ...suites }
  results.table = [...(previous.table ?? []).filter((row) => !names.includes(row.suite)), ...rows]
  results.partial = { suites: names, previousTimestamp: previous.timestamp }
}
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
console.log(`Wrote ${out}`)
