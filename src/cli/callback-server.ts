// The loopback callback server behind `connect --listen`: listens on 127.0.0.1 (RFC 8252), waits
// for the platform's redirect with `?code&state` (or `?error`), hands the full callback URL to the
// caller to complete, and shows the person a small success or failure page.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CallbackServer {
  /** The redirect URI to send the platform to. */
  redirectUri: string
  /** Resolves with what `complete` resolved to, after the browser got its page. */
  result: Promise<string>
  close(): Promise<void>
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
</body></html>
`
}

/**
 * Starts listening on 127.0.0.1:`port` (0 picks a free one) at `path`. `complete` receives the
 * callback URL and returns a sentence for the success page; if it throws, the page shows why.
 */
export async function startCallbackServer(
  port: number,
  path: string,
  complete: (callbackUrl: string) => Promise<string>,
): Promise<CallbackServer> {
  let settle!: { resolve: (value: string) => void; reject: (error: unknown) => void }
  const result = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject }
  })
  let handled = false
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    if (request.method !== 'GET' || url.pathname !== path || handled) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n')
      return
    }
    handled = true
    complete(url.href).then(
      (message) => {
        response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(page('Connected', `${message} You can close this window.`), () => settle.resolve(message))
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : 'The authorization failed.'
        response
          .writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(page('Not connected', `${reason} Return to the terminal.`), () => settle.reject(error))
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const actual = (server.address() as AddressInfo).port
  return {
    redirectUri: `http://127.0.0.1:${actual}${path}`,
    result,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
