// How bench/run.js shows results: the plain table printed after a run, the markdown table of
// issue 15's goals for README's Performance section (`node bench/run.js --markdown`), and the
// rows that stand for a goal its suite ran but did not produce.
import { GOALS } from '../goals.js'
import { round3 } from './stats.js'

function formatNumber(value, unit) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value === undefined ? '' : String(value)
  if (unit === 'bytes') return `${(value / 1024 / 1024).toFixed(1)} MB`
  return String(round3(value))
}

const withUnit = (value, unit) =>
  value === undefined ? '' : `${formatNumber(value, unit)}${unit && unit !== 'bytes' ? ` ${unit}` : ''}`

function verdict(row) {
  if (row.met === undefined) return ''
  if (row.informational) return row.met ? 'yes (info)' : 'no (info)'
  return row.met ? 'yes' : 'NO'
}

/** Prints `rows` as an aligned table with their notes below (what `npm run bench` shows). */
export function printTable(rows) {
  const header = ['measure', 'subject', 'baseline', 'ratio', 'target', 'met?']
  const table = rows.map((row) => [
    row.measure,
    withUnit(row.subject, row.unit),
    withUnit(row.baseline, row.unit),
    typeof row.ratio === 'number' ? `${round3(row.ratio)}×` : '',
    row.target ?? '',
    verdict(row),
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
}

/** A failed row for every goal of the suites in `ran` that `rows` lack. */
export function missingGoals(ran, rows) {
  return GOALS.filter((goal) => ran.includes(goal.suite) && !rows.some((row) => row.id === goal.id)).map(
    (goal) => ({
      suite: goal.suite,
      id: goal.id,
      measure: `${goal.id}: NOT MEASURED (suite ${goal.suite} ran but produced no such row)`,
      met: false,
    }),
  )
}

const cell = (text) =>
  String(text ?? '')
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ')

/**
 * The goals of issue 15 from a results file as a markdown table (goal id, measure, subject,
 * baseline, ratio, goal, met/missed, note), every other row too with `all`.
 */
export function markdownTable(results, { all = false } = {}) {
  const rows = results.table ?? []
  const byId = new Map(rows.map((row) => [row.id, row]))
  const picked = GOALS.map((goal) => byId.get(goal.id) ?? { id: goal.id, missing: true })
  if (all) picked.push(...rows.filter((row) => !GOALS.some((goal) => goal.id === row.id)))
  const when = (row) => results.suites?.[row.suite]?.timestamp ?? results.timestamp
  const lines = [
    '| goal id | measure | subject | baseline | ratio | goal | met/missed | note |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const row of picked) {
    if (row.missing) {
      lines.push(`| \`${row.id}\` | not in this results file | | | | | **not measured** | |`)
      continue
    }
    const met =
      row.met === undefined ? '' : row.met ? 'met' : row.informational ? 'not met (info)' : '**missed**'
    lines.push(
      `| \`${row.id}\` | ${cell(row.measure)} | ${cell(withUnit(row.subject, row.unit))} | ${cell(withUnit(row.baseline, row.unit))} | ` +
        `${typeof row.ratio === 'number' ? `${round3(row.ratio)}×` : ''} | ${cell(row.target)} | ${met} | ` +
        `${cell(row.note)}${when(row) !== results.timestamp ? ` (run of ${when(row)})` : ''} |`,
    )
  }
  const machine = results.machine ?? {}
  lines.push(
    '',
    `From ${results.quick ? 'a BENCH_QUICK run (small sizes, not for the record) ' : ''}the run of ${results.timestamp}` +
      ` on ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}${results.load ? `, load average at the start ${results.load.join(' / ')}` : ''}.`,
  )
  return lines.join('\n')
}
