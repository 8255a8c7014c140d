// The audit page: who connected, refreshed, took a token, disconnected or rotated keys, newest
// first, filterable by connection and time. Entries hold public facts only.
import type { AuditEntry } from '../../stores/store.js'
import { html, type SafeHtml } from '../html.js'
import { connectionPath, layout } from './layout.js'
import { relativeTime } from './time.js'

export interface AuditPageModel {
  entries: AuditEntry[]
  now: number
  connection?: string
  since?: string
  limit: number
  logoutCsrf?: string
  error?: string
}

/** The entries as a table (also on each connection's page); empty: a line saying so. */
export function auditTable(entries: AuditEntry[], now: number): SafeHtml {
  if (entries.length === 0) return html`<p class="muted" id="audit-empty">No entries match.</p>`
  const rows = entries.map(
    (entry) => html`<tr class="${entry.outcome === 'failed' ? 'failed' : ''}">
  <td>${relativeTime(entry.at, now)}</td>
  <td><code>${entry.actor}</code></td>
  <td>${entry.action}</td>
  <td>${entry.connection ? html`<a href="${connectionPath(entry.connection)}">${entry.connection}</a>` : html`<span class="muted">—</span>`}</td>
  <td>${entry.outcome}</td>
  <td class="muted">${Object.entries(entry.detail ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}</td>
</tr>`,
  )
  return html`<div class="table-scroll"><table id="audit-entries">
  <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Connection</th><th>Outcome</th><th>Detail</th></tr></thead>
  <tbody>${rows}</tbody>
</table></div>`
}

export function auditPage(model: AuditPageModel): string {
  return layout({
    title: 'Audit trail',
    logoutCsrf: model.logoutCsrf,
    nav: { page: 'audit' },
    body: html`<section class="card" id="audit">
  <h1>Audit trail</h1>
  <p class="muted">Who connected, refreshed, took a token, disconnected or rotated keys. Newest first; at most ${model.limit} entries. <a href="/">Back to the dashboard</a></p>
  <form method="get" action="/audit" class="inline">
    <label>Connection <input type="text" name="connection" value="${model.connection ?? ''}" placeholder="app/name"></label>
    <label>Since <input type="text" name="since" value="${model.since ?? ''}" placeholder="24h, 7d or 2026-01-01"></label>
    <button type="submit">Filter</button>
  </form>
  ${model.error ? html`<p class="message error">${model.error}</p>` : ''}
  ${auditTable(model.entries, model.now)}
</section>`,
  })
}
