// What a person sees after the platform sends them back: the success page (with the platform's
// return URL as a button, e.g. Booking Experts' app page from its subscription) or a readable
// failure that says nothing was stored and what to do.
import type { ConnectionInfo } from '../../index.js'
import { html, safeHttpUrl } from '../html.js'
import { layout } from './layout.js'

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => String(item)).join(', ')
  if (value !== null && typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

export function connectedPage(connection: ConnectionInfo, providerName: string): string {
  const returnUrl = safeHttpUrl(connection.metadata.returnUrl)
  const facts = Object.entries(connection.metadata).filter(
    ([key]) => key !== 'grant' && key !== 'returnUrl' && key !== 'pendingSteps',
  )
  const pending = Array.isArray(connection.metadata.pendingSteps)
    ? connection.metadata.pendingSteps.map(String)
    : []
  const back = returnUrl
    ? html`<a class="button" id="return-link" href="${returnUrl}" rel="noopener">Back to ${providerName}</a>`
    : ''
  return layout({
    title: 'Connected',
    body: html`<section class="card notice" id="connected">
  <h1>${providerName} is connected</h1>
  <p>The app was installed: Innkeeper now holds the keys for <code id="connection-id">${connection.id}</code> and keeps them fresh.</p>
  ${
    facts.length > 0
      ? html`<dl>${facts.map(([key, value]) => html`<dt>${key}</dt><dd><code>${describeValue(value)}</code></dd>`)}</dl>`
      : ''
  }
  ${
    pending.length > 0
      ? html`<p class="muted" id="pending-steps">${providerName} did not answer ${pending.join(', ')} yet: the tokens are kept, and Innkeeper asks again shortly.</p>`
      : ''
  }
  <p>${back} <a class="button secondary" href="/">Innkeeper dashboard</a></p>
</section>`,
  })
}

const FAILURE_TITLES: Record<string, string> = {
  invalid_state: 'This authorization link is not valid any more',
  access_denied: 'Access was not granted',
  invalid_request: 'The platform did not complete the authorization',
  invalid_grant: 'The platform refused the authorization code',
}

export function callbackFailedPage(code: string, message: string, nothingStored = true): string {
  return layout({
    title: FAILURE_TITLES[code] ?? 'Connecting failed',
    body: html`<section class="card error" id="callback-error">
  <h1>${FAILURE_TITLES[code] ?? 'Connecting failed'}</h1>
  <p class="message">${message}</p>
  ${nothingStored ? html`<p>Nothing was stored. Start again from the dashboard when ready.</p>` : ''}
  <p class="muted">Error code: <code id="error-code">${code}</code></p>
  <p><a class="button" href="/">Back to the dashboard</a></p>
</section>`,
  })
}
