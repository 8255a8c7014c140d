// One connection's page (`/connections/<app>/<name>`): its refresh timeline, what Innkeeper knows
// about it (state, expiry times, scopes, public metadata; never a token or secret) and its audit
// entries, with Reconnect (Replace API key for a connection made with one) and Disconnect.
import type { ConnectionInfo } from '../../model/connection.js'
import type { ProviderDefinition } from '../../providers/index.js'
import { redact } from '../../redact.js'
import type { AuditEntry } from '../../stores/store.js'
import { html, type SafeHtml } from '../html.js'
import { auditTable } from './audit.js'
import { connectionPath, layout } from './layout.js'
import { reauthAction } from './reauth-action.js'
import { refreshTimeline, timelineMarks } from './refresh-timeline.js'
import { relativeTime } from './time.js'

export interface ConnectionPageModel {
  connection: ConnectionInfo
  /** Absent when the connection's app is gone from the store. */
  provider?: ProviderDefinition
  entries: AuditEntry[]
  /** How many entries were asked for (the page says when there may be older ones). */
  limit: number
  now: number
  csrf: string
  logoutCsrf?: string
}

function metadataValue(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value)
}

function facts(model: ConnectionPageModel): SafeHtml {
  const { connection, now } = model
  // Metadata holds public facts by design; redact() is the belt to those braces.
  const metadata = Object.entries(redact(connection.metadata))
  const row = (label: string, value: SafeHtml | string) => html`<dt>${label}</dt><dd>${value}</dd>`
  return html`<dl class="facts" id="connection-facts">
    ${row('State', html`<span class="badge state-${connection.state}" id="connection-state">${connection.state.replace('_', ' ')}</span>`)}
    ${row('Provider', model.provider?.displayName ?? connection.provider)}
    ${row('Scopes', connection.scopes.length > 0 ? html`<code>${connection.scopes.join(' ')}</code>` : html`<span class="muted">none</span>`)}
    ${row('Access token expires', relativeTime(connection.accessTokenExpiresAt, now, 'no expiry'))}
    ${row('Refresh token', connection.hasRefreshToken ? relativeTime(connection.refreshTokenExpiresAt, now, 'yes, no expiry') : html`<span class="muted">none</span>`)}
    ${row('Last refresh', relativeTime(connection.lastRefreshAt, now))}
    ${row('Next refresh due', relativeTime(connection.refreshDueAt, now))}
    ${row('Last error', connection.lastError ? html`<code>${connection.lastError.code}</code> ${connection.lastError.message} (${relativeTime(connection.lastError.at, now)})` : html`<span class="muted">—</span>`)}
    ${row('Connected', relativeTime(connection.createdAt, now))}
    ${row('Updated', relativeTime(connection.updatedAt, now))}
    ${metadata.map(([key, value]) => row(key, html`<code>${metadataValue(value)}</code>`))}
  </dl>`
}

function actions(model: ConnectionPageModel): SafeHtml {
  const { connection, provider } = model
  const path = connectionPath(connection.id)
  return html`<p class="actions">${reauthAction(connection, provider, model.csrf)}
    <form method="post" action="${path}/disconnect" class="inline">
      <input type="hidden" name="_csrf" value="${model.csrf}">
      <button type="submit" class="danger">Disconnect</button>
    </form></p>`
}

export function connectionPage(model: ConnectionPageModel): string {
  const { connection, now } = model
  const marks = timelineMarks(model.entries)
  const filtered = `/audit?connection=${encodeURIComponent(connection.id)}`
  const older =
    model.entries.length >= model.limit
      ? html` Showing the newest ${model.limit}; <a href="${filtered}">the audit trail</a> filters by time for older ones.`
      : html` <a href="${filtered}">On the audit trail page</a> they filter by time.`
  return layout({
    title: connection.id,
    logoutCsrf: model.logoutCsrf,
    nav: { page: 'connection', connection: connection.id },
    body: html`<section class="card" id="connection" data-connection="${connection.id}">
  <header><h1>${connection.id}</h1><span class="badge state-${connection.state}">${connection.state.replace('_', ' ')}</span></header>
  ${model.provider ? '' : html`<p class="muted">The app <code>${connection.app}</code> is no longer registered.</p>`}
  ${actions(model)}
</section>
<section class="card" aria-labelledby="timeline-title">
  <h2 id="timeline-title">Refresh timeline</h2>
  <figure>
    ${refreshTimeline({ marks, now, createdAt: connection.createdAt, nextRefreshAt: connection.refreshDueAt })}
    <figcaption class="legend"><span class="key key-refresh">● refresh</span> <span class="key key-failure">✕ failure</span> <span class="key key-reauth">◆ connect or reauthorization</span> <span class="key key-due">○ next refresh due</span></figcaption>
  </figure>
</section>
<section class="card" aria-labelledby="facts-title">
  <h2 id="facts-title">Details</h2>
  ${facts(model)}
</section>
<section class="card" aria-labelledby="entries-title">
  <h2 id="entries-title">Audit entries</h2>
  <p class="muted">Newest first.${older}</p>
  ${auditTable(model.entries, now)}
</section>`,
  })
}
