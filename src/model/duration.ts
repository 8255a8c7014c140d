// Durations as people write them in settings and provider definitions: `500ms`, `30s`, `90m`,
// `12h`, `3d` (a bare number is milliseconds). One reading for every place that takes one.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/

/** The duration in milliseconds, or undefined when `text` is not one. */
export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text)
  return match ? Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1) : undefined
}
