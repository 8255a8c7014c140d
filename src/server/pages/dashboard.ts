// The operator dashboard: every app with its connect form (out-of-band, redirect, or
// client-credentials fields generated from the provider's `connectOptions`), an API-key form where
// the provider definition declares `apiKey`, and every connection with its state, expiry, last
// error, Reconnect (Replace API key for a connection made with one) and Disconnect.
import type { AppInfo, ConnectionInfo } from '../../index.js'
import type { ProviderDefinition } from '../../providers/index.js'
import type { ConnectGrant } from '../../providers/schema.js'
import type { FleetSummary } from '../fleet-summary.js'
import { html, type SafeHtml } from '../html.js'
import { fleetStrip } from './fleet-strip.js'
import { layout } from './layout.js'
import { reauthAction } from './reauth-action.js'
import { relativeTime } from './time.js'

export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob'

export interface DashboardApp {
  info: AppInfo
  provider: ProviderDefinition
  connections: ConnectionInfo[]
}

export interface DashboardModel {
  apps: DashboardApp[]
  /** Connections whose app is gone from the store. */
  orphans: ConnectionInfo[]
  callbackUrl: string
  now: number
  csrf: string
  notice?: string
  /** Prefilled connect-option values per app (the demo's bookingtime organization). */
  connectDefaults: Record<string, Record<string, string>>
  showLogout: boolean
  /** The fleet strip's numbers (connections by state, refreshes past and due). */
  fleet: FleetSummary
}

function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`
}

function connectOptionFields(provider: ProviderDefinition, values: Record<string, unknown> = {}): SafeHtml {
  return html`${provider.connectOptions.map(
    (option) =>
      html`<label>${option.name}${option.required ? ' *' : ''}
        <input type="text" name="option.${option.name}" value="${typeof values[option.name] === 'string' ? (values[option.name] as string) : ''}" placeholder="${option.description}" ${option.required ? html`required` : ''}></label>`,
  )}`
}

const GRANT_LABELS: Record<ConnectGrant, string> = {
  client_credentials: 'client credentials',
  authorization_code: 'authorization code',
}

/** A choice of grant, where the provider offers several (bookingtime: App or User Authentication). */
function grantSelector(info: AppInfo): SafeHtml {
  if (info.connectGrants.length < 2) return html``
  return html`<label>Grant <select name="grant">${info.connectGrants.map(
    (grant) =>
      html`<option value="${grant}" ${grant === info.connectMode ? html`selected` : ''}>${GRANT_LABELS[grant]}${grant === info.connectMode ? ' (default)' : ''}</option>`,
  )}</select></label>`
}

function hiddenGrantField(app: DashboardApp, metadata: Record<string, unknown>): SafeHtml {
  const grant = metadata.grant
  return typeof grant === 'string' && (app.info.connectGrants as string[]).includes(grant)
    ? html`<input type="hidden" name="grant" value="${grant}">`
    : html``
}

function connectHelp(app: DashboardApp, callbackUrl: string): SafeHtml {
  const { info, provider } = app
  const notice = provider.connectNotices.client_credentials
  if (info.connectMode === 'client_credentials') {
    const other = info.connectGrants.includes('authorization_code')
      ? html` Choose <em>authorization code</em> to have a person approve instead: ${provider.displayName} redirects back to <code class="callback-url">${callbackUrl}</code>, register it on the platform.`
      : ''
    return html`<p class="muted">${provider.displayName} connects with the app's own credentials: no browser step.${other}</p>${notice ? html`<p class="muted notice-grant">${notice}</p>` : ''}`
  }
  if (info.redirectUri === OOB_REDIRECT_URI) {
    return html`<p class="muted">${provider.displayName} shows the authorization code on its own page: Connect opens its consent page in a new tab, then paste the code here.</p>`
  }
  // Platforms whose app store starts installs (no state) need the per-app callback URL.
  const url = provider.authorization.installCallbacks
    ? `${callbackUrl}/${encodeURIComponent(info.name)}`
    : callbackUrl
  const mismatch =
    info.redirectUri && info.redirectUri !== url && info.redirectUri !== callbackUrl
      ? html` This app is registered with <code>${info.redirectUri}</code>; the platform sends people there.`
      : ''
  return html`<p class="muted">${provider.displayName} redirects back after approval. Register this callback URL on the platform: <code class="callback-url">${url}</code>.${mismatch}</p>`
}

function connectForm(app: DashboardApp, csrf: string, defaults: Record<string, string> = {}): SafeHtml {
  const { info, provider } = app
  // Connect options are asked for before any browser step (bookingtime's organization).
  const fields =
    info.connectGrants.includes('client_credentials') || provider.connectOptions.some((o) => o.required)
      ? connectOptionFields(provider, defaults)
      : ''
  return html`<form method="post" action="/apps/${encodeURIComponent(info.name)}/connect" class="connect" data-app="${info.name}">
    ${csrfField(csrf)}
    <label>Connection name <input type="text" name="name" value="main" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" required></label>
    ${grantSelector(info)}
    ${fields}
    <button type="submit" name="action" value="connect">Connect</button>
  </form>`
}

/** Where the provider takes an API key instead of an authorization (Booking Experts' `X-API-KEY`). */
function apiKeyForm(app: DashboardApp, csrf: string): SafeHtml {
  const { info, provider } = app
  const spec = provider.apiKey
  if (!spec) return html``
  const check = spec.verifyPath
    ? html` It is tried with <code>GET ${spec.verifyPath}</code> first, and kept only if ${provider.displayName} accepts it.`
    : ''
  // The key field never has a value: a page never carries a key back.
  return html`<p class="muted api-key-help">${provider.displayName} also takes an API key: it goes in the <code>${spec.header}</code> header of every call, never expires and is never refreshed.${check}</p>
  <form method="post" action="/apps/${encodeURIComponent(info.name)}/api-key" class="api-key" data-app="${info.name}">
    ${csrfField(csrf)}
    <label>Connection name <input type="text" name="name" value="main" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" required></label>
    <label>API key <input type="password" name="apiKey" autocomplete="new-password" spellcheck="false" required></label>
    <button type="submit" name="action" value="api-key">Connect with API key</button>
  </form>`
}

function connectionRow(
  app: DashboardApp | undefined,
  connection: ConnectionInfo,
  model: DashboardModel,
): SafeHtml {
  const path = `/connections/${encodeURIComponent(connection.app)}/${encodeURIComponent(connection.name)}`
  const action = app
    ? reauthAction(connection, app.provider, model.csrf, hiddenGrantField(app, connection.metadata))
    : ''
  const error = connection.lastError
    ? html`<span title="${connection.lastError.code}">${connection.lastError.message}</span>`
    : html`<span class="muted">—</span>`
  return html`<tr data-connection="${connection.id}">
    <td><a href="${path}" class="connection-link"><code>${connection.id}</code></a></td>
    <td><span class="badge state-${connection.state}">${connection.state.replace('_', ' ')}</span></td>
    <td>${relativeTime(connection.accessTokenExpiresAt, model.now, 'no expiry')}</td>
    <td>${connection.hasRefreshToken ? relativeTime(connection.refreshTokenExpiresAt, model.now, 'yes, no expiry') : html`<span class="muted">none</span>`}</td>
    <td>${relativeTime(connection.lastRefreshAt, model.now)}</td>
    <td>${error}</td>
    <td>${action}
      <form method="post" action="${path}/disconnect" class="inline">
        ${csrfField(model.csrf)}
        <button type="submit" class="danger">Disconnect</button>
      </form></td>
  </tr>`
}

function connectionsTable(
  app: DashboardApp | undefined,
  connections: ConnectionInfo[],
  model: DashboardModel,
): SafeHtml {
  if (connections.length === 0) return html`<p class="muted">No connections yet.</p>`
  return html`<div class="table-scroll"><table class="connections">
    <thead><tr><th>Connection</th><th>State</th><th>Access token expires</th><th>Refresh token</th><th>Last refresh</th><th>Last error</th><th></th></tr></thead>
    <tbody>${connections.map((connection) => connectionRow(app, connection, model))}</tbody>
  </table></div>`
}

function appCard(app: DashboardApp, model: DashboardModel): SafeHtml {
  const { info, provider } = app
  return html`<section class="card app" id="app-${info.name}" data-app="${info.name}">
  <header><h2>${info.name}</h2><span class="muted">${provider.displayName}</span>
    <span class="badge">${[...info.connectGrants.map((grant) => GRANT_LABELS[grant]), ...(provider.apiKey ? ['API key'] : [])].join(' or ')}</span>
    <span class="muted">client <code>${info.clientId}</code></span></header>
  ${connectHelp(app, model.callbackUrl)}
  ${connectForm(app, model.csrf, model.connectDefaults[info.name])}
  ${apiKeyForm(app, model.csrf)}
  ${connectionsTable(app, app.connections, model)}
</section>`
}

export function dashboardPage(model: DashboardModel): string {
  const notice = model.notice
    ? html`<section class="card notice" id="notice"><p>${model.notice}</p></section>`
    : ''
  const total = model.apps.reduce((sum, app) => sum + app.connections.length, 0) + model.orphans.length
  const apps =
    model.apps.length > 0
      ? model.apps.map((app) => appCard(app, model))
      : html`<section class="card"><p>No apps yet. Add one with <code>innkeeper apps add</code>, or try <code>innkeeper serve --demo</code>.</p></section>`
  const orphans =
    model.orphans.length > 0
      ? html`<section class="card"><h2>Connections of removed apps</h2>${connectionsTable(undefined, model.orphans, model)}</section>`
      : ''
  return layout({
    title: 'Dashboard',
    logoutCsrf: model.showLogout ? model.csrf : undefined,
    nav: { page: 'dashboard' },
    body: html`${notice}
${fleetStrip(model.fleet)}
<h1>Apps and connections</h1>
<p class="muted">${model.apps.length} app${model.apps.length === 1 ? '' : 's'}, ${total} connection${total === 1 ? '' : 's'}. Callback URL for platforms that redirect: <code id="callback-url">${model.callbackUrl}</code></p>
${apps}
${orphans}`,
  })
}
