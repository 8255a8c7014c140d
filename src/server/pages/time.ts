// Times on the dashboard: "in 1 h 59 min" / "3 min ago" for a glance, the ISO time on hover.
import { html, type SafeHtml } from '../html.js'

export function describeDuration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ${minutes % 60} min`
  return `${Math.floor(hours / 24)} days`
}

export function relativeTime(at: number | null | undefined, now: number, empty = '—'): SafeHtml {
  if (at === null || at === undefined) return html`<span class="muted">${empty}</span>`
  const iso = new Date(at).toISOString()
  const text = at >= now ? `in ${describeDuration(at - now)}` : `${describeDuration(now - at)} ago`
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`
}
