// Durations as people write them in settings and provider definitions: `500ms`, `30s`, `90m`,
// `12h`, `3d` (a bare number is milliseconds). One reading for every place that takes one; a
// place may accept fewer units (request timeouts: ms, s and m).

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd'

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/

/** The duration in milliseconds, or undefined when `text` is not one in the accepted `units`. */
export function durationMs(text: string, units?: readonly DurationUnit[]): number | undefined {
  const match = DURATION.exec(text)
  if (!match) return undefined
  const unit = (match[2] ?? 'ms') as DurationUnit
  if (units && match[2] !== undefined && !units.includes(unit)) return undefined
  return Number(match[1]) * UNIT_MS[unit]
}
