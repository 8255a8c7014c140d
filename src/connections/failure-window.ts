// The failure window: how long a connection may keep failing (transient errors, retried with
// backoff) before it is marked `error` for good and no longer retried automatically.
// Given in ms or as a duration (`90m`, `12h`, `3d`); INNKEEPER_FAILURE_WINDOW sets the default.
import { ConfigError } from '../errors.js'
import { DEFAULT_FAILURE_WINDOW_MS } from './context.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function failureWindowFrom(value: number | string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_FAILURE_WINDOW_MS
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(value))
  if (!match) {
    throw new ConfigError(
      'invalid_config',
      `The failure window "${String(value).slice(0, 40)}" is not a duration; write e.g. 3d, 12h or 90m (INNKEEPER_FAILURE_WINDOW).`,
    )
  }
  return Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1)
}
