// How an operator renews a connection that needs it, the same on the dashboard and on the
// connection's page: "Replace API key" for a connection made with an API key (a password field
// posting to `POST /connections/:app/:name/api-key`, whose handler takes the app and name from
// that path), else, once it needs a person again, "Reconnect" (a new connect of the same name,
// with the connect options it was made with).
import { isApiKeyConnectionInfo } from '../../connections/credential.js'
import type { ConnectionInfo } from '../../model/connection.js'
import type { ProviderDefinition } from '../../providers/schema.js'
import { html, type SafeHtml } from '../html.js'
import { connectionPath } from './layout.js'

/** The states in which an OAuth connection offers Reconnect. */
const REAUTH_STATES = new Set(['needs_reauth', 'revoked', 'error'])

/**
 * The action for `connection`, or nothing (its app is gone: no `provider`; or it needs nothing).
 * `extra` goes into the Reconnect form (the dashboard's choice of grant).
 */
export function reauthAction(
  connection: ConnectionInfo,
  provider: ProviderDefinition | undefined,
  csrf: string,
  extra: SafeHtml | '' = '',
): SafeHtml | '' {
  if (!provider) return ''
  // An API key is replaced by another, in any state (the platform may refuse it before any state shows it).
  if (isApiKeyConnectionInfo(connection)) return replaceApiKeyForm(connection, csrf)
  if (!REAUTH_STATES.has(connection.state)) return ''
  return html`<form method="post" action="/apps/${encodeURIComponent(connection.app)}/connect" class="inline">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="name" value="${connection.name}">
    ${hiddenOptionFields(provider, connection.metadata)}
    ${extra}
    <button type="submit" class="secondary">Reconnect</button>
  </form>`
}

/** The connect options a connection was made with, for a connect form to send again. */
function hiddenOptionFields(provider: ProviderDefinition, metadata: Record<string, unknown>): SafeHtml {
  return html`${provider.connectOptions.map((option) => {
    const value = metadata[option.name]
    return typeof value === 'string' || typeof value === 'number'
      ? html`<input type="hidden" name="option.${option.name}" value="${String(value)}">`
      : ''
  })}`
}

/** The form; its key field never has a value, so a page never carries a key back. */
function replaceApiKeyForm(connection: ConnectionInfo, csrf: string): SafeHtml {
  return html`<form method="post" action="${connectionPath(connection.id)}/api-key" class="inline replace-api-key">
    <input type="hidden" name="_csrf" value="${csrf}">
    <label>New API key <input type="password" name="apiKey" autocomplete="new-password" spellcheck="false" required></label>
    <button type="submit" class="secondary">Replace API key</button>
  </form>`
}
