// Small statistics and timing helpers for the benchmarks: medians, percentiles, interleaved
// rounds (A, B, A, B… so machine noise hits subject and baseline alike), and /proc memory reads.
import { readFileSync } from 'node:fs'

export function median(values) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Nearest-rank percentile (p in 0..100) of an unsorted array. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export function round3(value) {
  if (!Number.isFinite(value)) return value
  const magnitude = Math.abs(value)
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
  return Number(value.toFixed(digits))
}

/**
 * Runs `rounds` rounds of every entry in `entries` ({ name: async () => number }), alternating the
 * order each round (A,B,C then C,B,A…). Returns { name: [value per round] }.
 */
export async function interleave(rounds, entries) {
  const names = Object.keys(entries)
  const out = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) out[name].push(await entries[name](round))
  }
  return out
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status)
  return match ? Number(match[1]) * 1024 : Number.NaN
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export const MB = 1024 * 1024

/** Interpolated percentile (p in 0..1) like SQL's percentile_cont; null for no values. */
export function percentileCont(values, p) {
  if (values.length === 0) return null
  const sorted = Float64Array.from(values).sort()
  const at = p * (sorted.length - 1)
  const below = Math.floor(at)
  const above = Math.min(sorted.length - 1, below + 1)
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below)
}
