// What the CLI prints and how: tables and colour for a person at a terminal, tab-separated rows
// and JSON for a pipe. Narration goes to stderr so stdout stays parseable.
import { styleText } from 'node:util'

type Style = Parameters<typeof styleText>[0]

export function isTerminal(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY)
}

/** Colour only on a terminal, and never when NO_COLOR is set (no-color.org). */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  if (!isTerminal(stream) || process.env.NO_COLOR || process.env.TERM === 'dumb') return text
  return styleText(style, text)
}

export function out(line = ''): void {
  process.stdout.write(`${line}\n`)
}

/** A message for the person (progress, hints, warnings): stderr, so pipes see only results. */
export function say(line = ''): void {
  process.stderr.write(`${line}\n`)
}

export function warn(message: string): void {
  say(`${paint('yellow', 'warning:', process.stderr)} ${message}`)
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2))
}

export interface Column<T> {
  header: string
  value(row: T): string
}

/** Aligned columns with a header on a terminal; tab-separated rows without a header when piped. */
export function printTable<T>(rows: T[], columns: Column<T>[]): void {
  const cells = rows.map((row) => columns.map((column) => column.value(row)))
  if (!isTerminal()) {
    for (const row of cells) out(row.join('\t'))
    return
  }
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((row) => row[index]?.length ?? 0)),
  )
  const line = (values: string[]) =>
    values
      .map((value, index) => (index === values.length - 1 ? value : value.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd()
  out(paint('bold', line(columns.map((column) => column.header.toUpperCase()))))
  for (const row of cells) out(line(row))
}

/** Key/value lines (`show`): aligned on a terminal, `key<TAB>value` when piped. */
export function printFields(fields: [string, string][]): void {
  const width = Math.max(...fields.map(([key]) => key.length))
  for (const [key, value] of fields) {
    out(isTerminal() ? `${paint('bold', `${key}:`.padEnd(width + 1))} ${value}` : `${key}\t${value}`)
  }
}

/** ISO time when piped; on a terminal, also how far away it is ("in 1h 59m", "3m ago"). */
export function formatTime(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return '-'
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
  if (!isTerminal()) return iso
  return `${iso} (${relative(ms - now)})`
}

export function relative(deltaMs: number): string {
  const past = deltaMs < 0
  let seconds = Math.round(Math.abs(deltaMs) / 1000)
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`)
      seconds %= size
    }
  }
  if (parts.length === 0) parts.push(`${seconds}s`)
  const text = parts.slice(0, 2).join(' ')
  return past ? `${text} ago` : `in ${text}`
}

/** The state coloured by how urgent it is (terminal only). */
export function formatState(state: string): string {
  const style: Style =
    state === 'active'
      ? 'green'
      : state === 'needs_reauth' || state === 'revoked'
        ? 'red'
        : state === 'error'
          ? 'red'
          : 'yellow'
  return paint(style, state)
}
