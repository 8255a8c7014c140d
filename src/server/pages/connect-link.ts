// The pages an end user sees through a connect link (no operator login, no dashboard links): the
// start page (one button, plus the connect options the session left open for client-credentials
// platforms, plus an API-key form where the provider takes keys), the success page when the session has no return URL, and the refusals (unknown,
// used, expired link, or a connect that failed), each saying that nothing was changed.
import type { ConnectOption } from '../../providers/schema.js'
import { html } from '../html.js'
import { layout } from './layout.js'

export function linkStartPage(options: {
  action: string
  providerName: string
  connectionId: string
  csrf: string
  /** Connect options the person fills in (client-credentials platforms). */
  fields: ConnectOption[]
  /** The connect step behind Continue: the consent redirect, the out-of-band code, or at once. */
  step: 'redirect' | 'code' | 'credentials'
  /** Where the provider also takes an API key: the key form's action and the key's header. */
  apiKey?: { action: string; header: string }
  expiresAt: number
}): string {
  const fields = options.fields.map(
    (field) =>
      html`<p><label>${field.description}${field.required ? '' : ' (optional)'} <input type="text" name="option.${field.name}" id="option-${field.name}" autocomplete="off" spellcheck="false"${field.required ? html` required` : ''}></label></p>`,
  )
  const expires = new Date(options.expiresAt).toISOString()
  return layout({
    title: `Connect ${options.providerName}`,
    body: html`<section class="card" id="connect-link">
  <h1>Connect your ${options.providerName} account</h1>
  <p>${
    options.step === 'redirect'
      ? `Continue to ${options.providerName} to approve access; you come back afterwards.`
      : options.step === 'code'
        ? `Continue, then approve access on ${options.providerName}: it shows a code to paste back here.`
        : options.fields.length > 0
          ? `Fill in the details below to connect ${options.providerName}.`
          : `Continue to connect ${options.providerName}.`
  }</p>
  <form method="post" action="${options.action}" id="start-form">
    <input type="hidden" name="_csrf" value="${options.csrf}">
    ${fields}
    <button type="submit" id="start">Continue to ${options.providerName}</button>
  </form>
  ${options.apiKey ? apiKeyForm(options.apiKey, options.providerName, options.csrf) : ''}
  <p class="muted">This link works once, until <time datetime="${expires}">${expires}</time>. Connection: <code>${options.connectionId}</code></p>
</section>`,
  })
}

/** The key field never has a value: no page ever carries a key back. */
function apiKeyForm(apiKey: { action: string; header: string }, providerName: string, csrf: string) {
  return html`<h2>Or connect with an API key</h2>
  <p>If you have an API key from ${providerName}, paste it here instead. It is checked with ${providerName} first and kept encrypted; it is sent in the <code>${apiKey.header}</code> header of calls made for you.</p>
  <form method="post" action="${apiKey.action}" id="api-key-form">
    <input type="hidden" name="_csrf" value="${csrf}">
    <p><label>${providerName} API key <input type="password" name="apiKey" id="api-key" autocomplete="off" spellcheck="false" required></label></p>
    <button type="submit" id="connect-api-key">Connect with API key</button>
  </form>`
}

export function linkDonePage(connectionId: string, providerName: string): string {
  return layout({
    title: 'Connected',
    body: html`<section class="card notice" id="connected">
  <h1>${providerName} is connected</h1>
  <p>Your account is connected as <code id="connection-id">${connectionId}</code>. You can close this page.</p>
</section>`,
  })
}

const REFUSALS = {
  unknown: {
    title: 'This connect link is not valid',
    message:
      'This link is not known here: it may be mistyped, or so old that it was removed. Ask the app that sent you for a new link.',
  },
  used: {
    title: 'This connect link was already used',
    message:
      'Each connect link works once, and this one has been used. Ask the app that sent you for a new link.',
  },
  expired: {
    title: 'This connect link has expired',
    message:
      'Connect links work for a limited time, and this one has run out. Ask the app that sent you for a new link.',
  },
} as const

export type LinkRefusal = keyof typeof REFUSALS

export function linkRefusedPage(reason: LinkRefusal): string {
  const { title, message } = REFUSALS[reason]
  return layout({
    title,
    body: html`<section class="card error" id="link-refused" data-reason="${reason}">
  <h1>${title}</h1>
  <p class="message">${message}</p>
  <p>Nothing was changed.</p>
  <p class="muted">Reason: <code id="error-code">link_${reason}</code></p>
</section>`,
  })
}

/** `again`: the link still works (nothing changed), and this is where to try again. */
export function linkFailedPage(code: string, message: string, again?: string): string {
  return layout({
    title: 'Connecting failed',
    body: html`<section class="card error" id="link-failed" data-link-usable="${again ? 'yes' : 'no'}">
  <h1>Connecting failed</h1>
  <p class="message">${message}</p>
  ${
    again
      ? html`<p>Nothing was changed and this link still works. <a class="button" id="try-again" href="${again}">Try again</a></p>`
      : html`<p>This connect link is used up. Ask the app that sent you for a new link to try again.</p>`
  }
  <p class="muted">Error code: <code id="error-code">${code}</code></p>
</section>`,
  })
}
