// One connection's refresh timeline: each refresh, failure and (re)authorization from the audit
// trail as a mark on a time axis, one lane per kind, every mark with a `<title>` saying what
// happened when and who did it, and the next refresh due as a hollow mark. Hand-written SVG (see
// fleet-strip.ts for why no charting library): a few shapes on one axis.
import type { AuditEntry } from '../../stores/store.js'
import { FAILURE_ACTIONS, REFRESH_ACTION } from '../fleet-summary.js'
import { html, type SafeHtml } from '../html.js'

export type MarkKind = 'refresh' | 'failure' | 'reauth'

export interface TimelineMark {
  kind: MarkKind
  at: number
  title: string
}

const WIDTH = 480
const LEFT = 84
const RIGHT = 12
const LANES: Array<{ kind: MarkKind; label: string; y: number }> = [
  { kind: 'refresh', label: 'Refreshes', y: 20 },
  { kind: 'failure', label: 'Failures', y: 48 },
  { kind: 'reauth', label: 'Connects', y: 76 },
]
const AXIS_Y = 96

function iso(at: number): string {
  return new Date(at).toISOString().replace('.000Z', 'Z')
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

/** The marks among a connection's audit entries (oldest first); token hand-outs are not marks. */
export function timelineMarks(entries: AuditEntry[]): TimelineMark[] {
  const marks: TimelineMark[] = []
  let connects = 0
  for (const entry of [...entries].sort((a, b) => a.at - b.at)) {
    const by = `by ${entry.actor}`
    const code = typeof entry.detail?.code === 'string' ? ` (${entry.detail.code})` : ''
    if (entry.outcome === 'failed' && FAILURE_ACTIONS.has(entry.action)) {
      const what = entry.action === 'connection.needs_reauth' ? 'Needs reauthorization' : 'Refresh failed'
      marks.push({ kind: 'failure', at: entry.at, title: `${what}${code} at ${iso(entry.at)}, ${by}` })
    } else if (entry.outcome === 'ok' && entry.action === REFRESH_ACTION) {
      marks.push({ kind: 'refresh', at: entry.at, title: `Refreshed at ${iso(entry.at)}, ${by}` })
    } else if (entry.outcome === 'ok' && entry.action === 'connection.connected') {
      const what = connects === 0 ? 'Connected' : 'Reauthorized'
      connects += 1
      marks.push({ kind: 'reauth', at: entry.at, title: `${what} at ${iso(entry.at)}, ${by}` })
    }
  }
  return marks
}

function markShape(kind: MarkKind, x: number, y: number): SafeHtml {
  const p = (n: number) => n.toFixed(1)
  if (kind === 'failure')
    return html`<path d="M${p(x - 5)} ${p(y - 5)}L${p(x + 5)} ${p(y + 5)}M${p(x + 5)} ${p(y - 5)}L${p(x - 5)} ${p(y + 5)}"></path>`
  if (kind === 'reauth')
    return html`<path d="M${p(x)} ${p(y - 6)}L${p(x + 6)} ${p(y)}L${p(x)} ${p(y + 6)}L${p(x - 6)} ${p(y)}Z"></path>`
  return html`<circle cx="${p(x)}" cy="${p(y)}" r="4.5"></circle>`
}

export interface TimelineOptions {
  marks: TimelineMark[]
  now: number
  /** Where the axis starts when there are no older marks (the connection's creation). */
  createdAt: number
  nextRefreshAt: number | null
}

export function refreshTimeline(options: TimelineOptions): SafeHtml {
  const { marks, now } = options
  const oldest = marks.length > 0 ? Math.min(marks[0]?.at ?? now, options.createdAt) : options.createdAt
  const upcoming =
    options.nextRefreshAt !== null && options.nextRefreshAt > now ? options.nextRefreshAt : null
  const newest = Math.max(now, upcoming ?? now)
  // A little room either side so the first and last marks are not cut in half.
  const span = Math.max(newest - oldest, 60_000)
  const from = oldest - span * 0.03
  const to = newest + span * 0.03
  const xOf = (at: number) => LEFT + ((at - from) / (to - from)) * (WIDTH - LEFT - RIGHT)
  const count = (kind: MarkKind) => marks.filter((mark) => mark.kind === kind).length
  const label = `Refresh timeline from ${iso(oldest)} to ${iso(newest)}: ${plural(count('refresh'), 'refresh', 'refreshes')}, ${plural(count('failure'), 'failure')}, ${plural(count('reauth'), 'connect or reauthorization', 'connects or reauthorizations')}${upcoming ? `; next refresh due ${iso(upcoming)}` : ''}.`
  const lanes = LANES.map(
    (lane) =>
      html`<text class="lane" x="0" y="${lane.y + 4}">${lane.label}</text><line class="guide" x1="${LEFT}" y1="${lane.y}" x2="${WIDTH - RIGHT}" y2="${lane.y}"></line>`,
  )
  const drawn = marks.map((mark) => {
    const lane = LANES.find((candidate) => candidate.kind === mark.kind)
    return html`<g class="mark mark-${mark.kind}" data-kind="${mark.kind}" data-at="${iso(mark.at)}"><title>${mark.title}</title>${markShape(mark.kind, xOf(mark.at), lane?.y ?? 0)}</g>`
  })
  const next = upcoming
    ? html`<g class="mark mark-due" data-kind="due" data-at="${iso(upcoming)}"><title>Next refresh due at ${iso(upcoming)}</title><circle cx="${xOf(upcoming).toFixed(1)}" cy="${LANES[0]?.y ?? 0}" r="4.5"></circle></g>`
    : ''
  const nowX = xOf(now).toFixed(1)
  return html`<svg id="refresh-timeline" class="chart" role="img" aria-label="${label}" viewBox="0 0 ${WIDTH} 124">
  ${lanes}
  <line class="axis" x1="${LEFT}" y1="${AXIS_Y}" x2="${WIDTH - RIGHT}" y2="${AXIS_Y}"></line>
  <line class="now" x1="${nowX}" y1="6" x2="${nowX}" y2="${AXIS_Y + 4}"></line>
  ${drawn}${next}
  <text class="tick" x="${LEFT}" y="${AXIS_Y + 18}">${iso(oldest).slice(0, 16).replace('T', ' ')}</text>
  <text class="tick" x="${WIDTH - RIGHT}" y="${AXIS_Y + 18}" text-anchor="end">${upcoming ? 'next due' : 'now'}</text>
</svg>`
}
