// How long audit entries are kept (`INNKEEPER_AUDIT_RETENTION_DAYS`, default 90), and the time
// filters people type: `--since 24h`, `--since 7d`, `--since 2026-01-01`.
import { InnkeeperError } from '../errors.js'

export const DEFAULT_AUDIT_RETENTION_DAYS = 90
const DAY_MS = 86_400_000

/** Retention in days from the environment; a value that is not a positive number is an error. */
export function auditRetentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.INNKEEPER_AUDIT_RETENTION_DAYS?.trim()
  if (!text) return DEFAULT_AUDIT_RETENTION_DAYS
  const days = Number(text)
  if (!Number.isFinite(days) || days <= 0) {
    throw new InnkeeperError(
      'invalid_config',
      `INNKEEPER_AUDIT_RETENTION_DAYS must be a positive number of days (it is '${text.slice(0, 20)}').`,
    )
  }
  return days
}

/** The oldest time kept with `days` of retention. */
export function retentionCutoff(now: number, days: number): number {
  return now - days * DAY_MS
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }

/** `24h`, `30m`, `7d`, `2w` (that long before `now`), or an ISO date or time. */
export function parseSince(text: string, now: number): number {
  const trimmed = text.trim()
  const relative = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(trimmed)
  if (relative) return now - Number(relative[1]) * (UNITS[relative[2]!.toLowerCase()] ?? DAY_MS)
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const at = Date.parse(trimmed)
    if (!Number.isNaN(at)) return at
  }
  throw new InnkeeperError(
    'invalid_config',
    `'${trimmed.slice(0, 40)}' is not a time: give a duration like 24h, 30m or 7d, or a date like 2026-01-01.`,
  )
}
