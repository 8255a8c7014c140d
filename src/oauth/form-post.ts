// One POST of a form (a token request) over node:http / node:https: keep-alive sockets, one
// deadline for the headers and the body, and a cap on the answer's size. Why not `fetch`: on
// Node 20 it builds web streams and Request/Response objects around every call, ~200 µs of a
// refresh's 1–2 ms (bench `refresh`, issue 15), and token requests need none of it. Why not the
// `undici` package: loading it costs a one-shot CLI ~57 ms; node:http is ~3 ms and built in.
// Redirects are not followed (a token endpoint that redirects is misconfigured: its answer is
// returned as it is, like `fetch` with `redirect: 'manual'`).
import type { Agent, ClientRequest, IncomingMessage } from 'node:http'

/**
 * How long an idle keep-alive socket is kept: below the 5 s a Node server keeps one open (nginx:
 * 75 s), so a request is not sent on a socket the server is closing. Assumption, not a platform fact.
 */
const IDLE_SOCKET_MS = 4_000

export interface FormAnswer {
  status: number
  /** A response header (names in lower case); repeated headers joined with ", ". */
  header(name: string): string | undefined
  text: string
  /** The body was longer than `maxBytes`: `text` holds nothing. */
  truncated: boolean
}

/** Why no answer came: never reached, no answer in time, or cut off while answering. */
export class FormPostError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'dropped',
    /** The network error code (`ECONNREFUSED`…), never the message (it may quote the URL). */
    readonly networkCode?: string,
  ) {
    super(networkCode ? `${kind} (${networkCode})` : kind)
    this.name = 'FormPostError'
  }
}

export interface FormPost {
  headers: Record<string, string>
  body: string
  timeoutMs: number
  maxBytes: number
}

const agents = new Map<string, Agent>()

async function agentFor(
  protocol: string,
): Promise<{ agent: Agent; request: typeof import('node:http').request }> {
  const http = protocol === 'https:' ? await import('node:https') : await import('node:http')
  let agent = agents.get(protocol)
  if (!agent) {
    // With NODE_USE_ENV_PROXY=1, Node (24 from 24.5, 22 from 22.21) sends `fetch` through
    // HTTP(S)_PROXY / NO_PROXY; token requests go the same way (`proxyEnv`; older Node lines
    // ignore it, as their fetch does).
    const proxy = process.env.NODE_USE_ENV_PROXY === '1' ? { proxyEnv: process.env } : {}
    agent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ...proxy })
    agents.set(protocol, agent)
  }
  return { agent, request: http.request }
}

export async function postForm(url: URL, post: FormPost): Promise<FormAnswer> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FormPostError('unreachable')
  const { agent, request } = await agentFor(url.protocol)
  const deadline = Date.now() + post.timeoutMs
  const send = () => once(request, agent, url, post, deadline - Date.now())
  try {
    return await send()
  } catch (error) {
    if (!(error instanceof StaleSocket)) throw error
    // A kept-alive socket the server closed as we reused it fails before any answer: the request
    // never reached the server, so it is sent once more on a new socket (Node's documented remedy).
    return await send().catch((again: unknown) => {
      throw again instanceof StaleSocket ? again.cause : again
    })
  }
}

class StaleSocket extends Error {
  constructor(override readonly cause: FormPostError) {
    super('stale keep-alive socket')
  }
}

function once(
  request: typeof import('node:http').request,
  agent: Agent,
  url: URL,
  post: FormPost,
  timeoutMs: number,
): Promise<FormAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false
    let answered = false
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      outcome()
    }
    const fail = (error: Error) =>
      settle(() => {
        req.destroy()
        reject(error)
      })
    const timer = setTimeout(() => fail(new FormPostError('timeout')), Math.max(0, timeoutMs))
    const req: ClientRequest = request(
      url,
      { method: 'POST', agent, headers: { ...post.headers, 'content-length': Buffer.byteLength(post.body) } },
      (response: IncomingMessage) => {
        answered = true
        const chunks: Buffer[] = []
        let size = 0
        const answer = (truncated: boolean) =>
          settle(() => {
            const headers = response.headers
            resolve({
              status: response.statusCode ?? 0,
              header: (name) => {
                const value = headers[name]
                return Array.isArray(value) ? value.join(', ') : value
              },
              text: truncated ? '' : Buffer.concat(chunks).toString('utf8'),
              truncated,
            })
          })
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size <= post.maxBytes) chunks.push(chunk)
          else {
            answer(true)
            response.destroy()
          }
        })
        response.on('end', () => answer(false))
        // Closed before its end: the server (or the network) cut the answer off.
        response.on('close', () => {
          if (!response.complete) fail(new FormPostError('dropped'))
        })
      },
    )
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return
      const failure = new FormPostError('unreachable', error.code)
      const stale = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')
      fail(stale ? new StaleSocket(failure) : failure)
    })
    req.end(post.body)
  })
}
