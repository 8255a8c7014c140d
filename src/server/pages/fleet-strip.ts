// The dashboard's fleet strip: "is everything healthy, and what happens next?" at a glance.
// Two server-rendered SVG pictures (connections by state; refreshes and failures per hour over the
// last 24 hours beside refreshes due per hour in the next 24) with the same numbers as text.
// Hand-written SVG rather than a charting library: the pages may not run client-side code, and
// the shapes are a few bars on one axis, which a dozen lines of markup draw.
import { type FleetSummary, HOUR_MS } from '../fleet-summary.js'
import { html, type SafeHtml } from '../html.js'

const WIDTH = 480
const CHART_TOP = 8
const CHART_HEIGHT = 84
const STATE_LABELS: Record<string, string> = {
  active: 'active',
  refreshing: 'refreshing',
  expiring: 'expiring',
  error: 'error',
  needs_reauth: 'needs reauth',
  revoked: 'revoked',
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

/** `14:00–15:00 UTC` for a bar's title (the server does not know the reader's time zone). */
function hourRange(start: number, end: number): string {
  const time = (at: number) => new Date(at).toISOString().slice(11, 16)
  return `${time(start)}–${time(end)} UTC`
}

function round(value: number): string {
  return value.toFixed(2).replace(/\.?0+$/, '')
}

function stateBar(summary: FleetSummary): SafeHtml {
  const present = summary.byState.filter((entry) => entry.count > 0)
  const label =
    summary.total === 0
      ? 'No connections yet.'
      : `${plural(summary.total, 'connection')}: ${present.map((entry) => `${entry.count} ${STATE_LABELS[entry.state]}`).join(', ')}.`
  let x = 0
  const segments = present.map((entry) => {
    const width = (entry.count / summary.total) * WIDTH
    const segment = html`<rect class="state-fill state-${entry.state}" data-state="${entry.state}" x="${round(x)}" y="0" width="${round(width)}" height="20"><title>${entry.count} ${STATE_LABELS[entry.state]}</title></rect>`
    x += width
    return segment
  })
  const empty =
    summary.total === 0 ? html`<rect class="empty-fill" x="0" y="0" width="${WIDTH}" height="20"></rect>` : ''
  return html`<svg id="fleet-states" class="chart" role="img" aria-label="${label}" viewBox="0 0 ${WIDTH} 20" preserveAspectRatio="none">${empty}${segments}</svg>
  <ul class="legend" id="fleet-state-counts">${summary.byState.map(
    (entry) =>
      html`<li data-state="${entry.state}" data-count="${entry.count}"><span class="swatch state-fill state-${entry.state}"></span>${STATE_LABELS[entry.state]} <strong>${entry.count}</strong></li>`,
  )}</ul>`
}

function activityChart(summary: FleetSummary): SafeHtml {
  const span = 2 * 24 * HOUR_MS
  const from = summary.now - 24 * HOUR_MS
  const xOf = (at: number) => ((at - from) / span) * WIDTH
  const highest = Math.max(
    1,
    ...summary.past.map((hour) => hour.refreshes + hour.failures),
    ...summary.next.map((hour) => hour.due),
  )
  const heightOf = (count: number) => (count / highest) * CHART_HEIGHT
  const base = CHART_TOP + CHART_HEIGHT
  const bar = (start: number, end: number, bottom: number, count: number, className: string) => {
    const height = heightOf(count)
    return html`<rect class="${className}" x="${round(xOf(start) + 0.5)}" y="${round(bottom - height)}" width="${round(Math.max(1, xOf(end) - xOf(start) - 1))}" height="${round(height)}"></rect>`
  }
  const past = summary.past
    .filter((hour) => hour.refreshes + hour.failures > 0)
    .map(
      (hour) =>
        html`<g class="hour past" data-start="${new Date(hour.start).toISOString()}" data-refreshes="${hour.refreshes}" data-failures="${hour.failures}"><title>${hourRange(hour.start, hour.end)}: ${plural(hour.refreshes, 'refresh', 'refreshes')}, ${plural(hour.failures, 'failure')}</title>${
          hour.refreshes > 0 ? bar(hour.start, hour.end, base, hour.refreshes, 'bar-refresh') : ''
        }${hour.failures > 0 ? bar(hour.start, hour.end, base - heightOf(hour.refreshes), hour.failures, 'bar-failure') : ''}</g>`,
    )
  const next = summary.next
    .filter((hour) => hour.due > 0)
    .map(
      (hour) =>
        html`<g class="hour next" data-start="${new Date(hour.start).toISOString()}" data-due="${hour.due}"><title>${hourRange(hour.start, hour.end)}: ${plural(hour.due, 'refresh', 'refreshes')} due</title>${bar(hour.start, hour.end, base, hour.due, 'bar-due')}</g>`,
    )
  const overdue = summary.overdue > 0 ? ` (${summary.overdue} already overdue)` : ''
  const label = `Last 24 hours: ${plural(summary.refreshes, 'refresh', 'refreshes')}, ${plural(summary.failures, 'failure')}. Next 24 hours: ${plural(summary.due, 'refresh', 'refreshes')} due${overdue}.`
  const middle = WIDTH / 2
  return html`<svg id="fleet-activity" class="chart" role="img" aria-label="${label}" viewBox="0 0 ${WIDTH} 116">
  <line class="axis" x1="0" y1="${base}" x2="${WIDTH}" y2="${base}"></line>
  ${past}${next}
  <line class="now" x1="${middle}" y1="2" x2="${middle}" y2="${base + 4}"></line>
  <text x="2" y="110" class="tick">24 h ago</text>
  <text x="${middle}" y="110" class="tick" text-anchor="middle">now</text>
  <text x="${WIDTH - 2}" y="110" class="tick" text-anchor="end">in 24 h</text>
</svg>`
}

export function fleetStrip(summary: FleetSummary): SafeHtml {
  return html`<section class="card fleet" id="fleet" aria-labelledby="fleet-title">
  <h2 id="fleet-title">Fleet</h2>
  <div class="fleet-grid">
    <figure>
      <figcaption>Connections by state</figcaption>
      ${stateBar(summary)}
    </figure>
    <figure>
      <figcaption>Refreshes per hour: the last 24 hours, and those due in the next 24</figcaption>
      ${activityChart(summary)}
      <ul class="legend" id="fleet-numbers">
        <li data-count-of="refreshes" data-count="${summary.refreshes}"><span class="swatch bar-refresh"></span>refreshed <strong>${summary.refreshes}</strong></li>
        <li data-count-of="failures" data-count="${summary.failures}"><span class="swatch bar-failure"></span>failed <strong>${summary.failures}</strong></li>
        <li data-count-of="due" data-count="${summary.due}"><span class="swatch bar-due"></span>due in 24 h <strong>${summary.due}</strong>${summary.overdue > 0 ? html` <span class="muted">(${summary.overdue} overdue)</span>` : ''}</li>
      </ul>
    </figure>
  </div>
</section>`
}
