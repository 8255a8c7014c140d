// The operator login form: the admin password from the environment, or an API key.
import { html } from '../html.js'
import { layout } from './layout.js'

export function loginPage(options: {
  csrf: string
  next: string
  error?: string
  passwordConfigured: boolean
}): string {
  const error = options.error ? html`<p class="card error" id="login-error">${options.error}</p>` : ''
  return layout({
    title: 'Log in',
    body: html`<section class="card">
  <h1>Log in to Innkeeper</h1>
  ${error}
  <p class="muted">${
    options.passwordConfigured
      ? 'Enter the admin password (INNKEEPER_ADMIN_PASSWORD) or an API key.'
      : 'Enter an API key (create one with `innkeeper keys create`), or set INNKEEPER_ADMIN_PASSWORD.'
  }</p>
  <form method="post" action="/login" id="login">
    <input type="hidden" name="_csrf" value="${options.csrf}">
    <input type="hidden" name="next" value="${options.next}">
    <label>Password or API key <input type="password" name="password" id="password" autocomplete="current-password" required autofocus></label>
    <button type="submit">Log in</button>
  </form>
</section>`,
  })
}
