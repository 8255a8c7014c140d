// "Replace API key", the dashboard's and the connection page's action for a connection made with an
// API key, in place of the OAuth Reconnect: a password field posting to
// `POST /connections/:app/:name/api-key`, whose handler takes the app and name from that path.
import type { ConnectionInfo } from '../../model/connection.js'
import { html, type SafeHtml } from '../html.js'
import { connectionPath } from './layout.js'

/** The form; its key field never has a value, so a page never carries a key back. */
export function replaceApiKeyForm(connection: ConnectionInfo, csrf: string): SafeHtml {
  return html`<form method="post" action="${connectionPath(connection.id)}/api-key" class="inline replace-api-key">
    <input type="hidden" name="_csrf" value="${csrf}">
    <label>New API key <input type="password" name="apiKey" autocomplete="new-password" spellcheck="false" required></label>
    <button type="submit" class="secondary">Replace API key</button>
  </form>`
}
