// The page frame every operator page shares: head, stylesheet, header with the navigation
// (dashboard, audit trail, the connection being looked at; the current page marked with
// aria-current) and the logout form, and the error page. Pages are strings built with the
// escaping `html` tag.
import type { FastifyReply } from 'fastify'
import { splitConnectionId } from '../../connections/connection-id.js'
import { html, type SafeHtml } from '../html.js'

/** Where an operator page sits in the header navigation (pages for end users have none). */
export type NavPlace = { page: 'dashboard' } | { page: 'audit' } | { page: 'connection'; connection: string }

export interface PageOptions {
  title: string
  body: SafeHtml
  /** A CSRF token shows the logout button (only on pages for a logged-in operator). */
  logoutCsrf?: string
  /** Shows the operator navigation with this page marked current. */
  nav?: NavPlace
}

export function connectionPath(id: string): string {
  const { app, name } = splitConnectionId(id)
  return `/connections/${encodeURIComponent(app)}/${encodeURIComponent(name)}`
}

function navigation(place: NavPlace | undefined): SafeHtml | string {
  if (!place) return ''
  const link = (href: string, label: string, current: boolean) =>
    html`<li><a href="${href}"${current ? html` aria-current="page"` : ''}>${label}</a></li>`
  return html`<nav class="top-nav" aria-label="Operator pages"><ul>
    ${link('/', 'Dashboard', place.page === 'dashboard')}
    ${link('/audit', 'Audit trail', place.page === 'audit')}
    ${place.page === 'connection' ? link(connectionPath(place.connection), place.connection, true) : ''}
  </ul></nav>`
}

export function layout(options: PageOptions): string {
  const logout = options.logoutCsrf
    ? html`<form method="post" action="/logout" class="inline">
        <input type="hidden" name="_csrf" value="${options.logoutCsrf}">
        <button type="submit" class="link">Log out</button>
      </form>`
    : ''
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · Innkeeper</title>
<link rel="stylesheet" href="/assets/innkeeper.css">
</head>
<body>
<header class="top"><a href="/" class="brand">Innkeeper</a>${navigation(options.nav)}${logout}</header>
<main>
${options.body}
</main>
</body>
</html>
`.value
}

export function sendPage(reply: FastifyReply, page: string): FastifyReply {
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page)
}

const TITLES: Record<string, string> = {
  not_found: 'Not found',
  rate_limited: 'Too many requests',
  invalid_state: 'This authorization is no longer valid',
  access_denied: 'Access was not granted',
  unauthorized: 'Please log in',
  internal_error: 'Something went wrong',
}

export function errorPage(_reply: FastifyReply, code: string, message: string, title?: string): string {
  return layout({
    title: title ?? TITLES[code] ?? 'That did not work',
    body: html`<section class="card error" id="error">
  <h1>${title ?? TITLES[code] ?? 'That did not work'}</h1>
  <p class="message">${message}</p>
  <p class="muted">Error code: <code id="error-code">${code}</code></p>
  <p><a class="button" href="/">Back to the dashboard</a></p>
</section>`,
  })
}
