// The connect pages shown after Connect: for out-of-band platforms, a link that opens the consent
// page in a new tab and the form to paste the code; for redirecting platforms, a page that goes
// to the consent page at once, through the top window when framed (the platform forbids framing).
import { html, scriptJson } from '../html.js'
import { layout } from './layout.js'

export function outOfBandPage(options: {
  app: string
  providerName: string
  connectionId: string
  url: string
  state: string
  csrf: string
  expiresAt: number
  /** Where the code form posts (default the operator's `/apps/<app>/code`; connect links post to their own). */
  action?: string
}): string {
  return layout({
    title: `Connect ${options.app}`,
    body: html`<section class="card" id="connect-oob">
  <h1>Connect ${options.connectionId}</h1>
  <ol class="steps">
    <li><a class="button" id="consent-link" href="${options.url}" target="_blank" rel="noopener noreferrer">Open the ${options.providerName} consent page</a>
      <span class="muted">(a new tab) and approve.</span></li>
    <li>${options.providerName} then shows an authorization code. Paste it here:
      <form method="post" action="${options.action ?? `/apps/${encodeURIComponent(options.app)}/code`}" id="code-form">
        <input type="hidden" name="_csrf" value="${options.csrf}">
        <input type="hidden" name="state" value="${options.state}">
        <label>Authorization code <input type="text" name="code" id="code" autocomplete="off" spellcheck="false" required></label>
        <button type="submit">Finish connecting</button>
      </form></li>
  </ol>
  <p class="muted">This authorization is valid until <time datetime="${new Date(options.expiresAt).toISOString()}">${new Date(options.expiresAt).toISOString()}</time> (10 minutes).</p>
</section>`,
  })
}

export function redirectPage(options: {
  connectionId: string
  providerName: string
  url: string
  nonce: string
}): string {
  return layout({
    title: `Connect ${options.connectionId}`,
    body: html`<section class="card" id="connect-redirect">
  <h1>Connecting ${options.connectionId}</h1>
  <p>Taking you to ${options.providerName} to approve access…</p>
  <p><a class="button" id="consent-link" href="${options.url}" target="_top">Continue to ${options.providerName}</a></p>
</section>
<script nonce="${options.nonce}">
(function () {
  var target = ${scriptJson(options.url)};
  // Consent pages refuse to be framed (X-Frame-Options: DENY): an embedded app moves the top window.
  if (window.top !== window.self) { window.top.location.href = target; } else { window.location.replace(target); }
})();
</script>`,
  })
}
