// src/oauth/form-post.ts, the transport of every token request: against plain loopback HTTP peers
// that misbehave in the ways networks do (silence, endless bodies, cut-off answers, a kept-alive
// socket closed under a reused request, nobody listening), each ends in the answer or the failure
// kind that token-request.ts turns into its error sentence.
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FormPostError, postForm } from '../../src/oauth/form-post.js'

const servers: (Server | NetServer)[] = []
const sockets = new Set<Socket>()
afterEach(async () => {
  // Kept-alive sockets would hold `close` open until the client lets them go.
  for (const socket of sockets) socket.destroy()
  sockets.clear()
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve))
})

async function listen<T extends Server | NetServer>(server: T): Promise<URL> {
  servers.push(server)
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return new URL(`http://127.0.0.1:${port}/token`)
}

const post = {
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  timeoutMs: 2_000,
  maxBytes: 1024,
}

describe('postForm', () => {
  it('sends the form and answers status, headers and body, reusing the socket for the next request', async () => {
    const seen: { body: string; type?: string; length?: string; socket: Socket }[] = []
    const url = await listen(
      createHttpServer((req, res) => {
        let body = ''
        req.on('data', (chunk) => {
          body += chunk
        })
        req.on('end', () => {
          seen.push({
            body,
            type: req.headers['content-type'],
            length: req.headers['content-length'],
            socket: req.socket,
          })
          res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' })
          res.end('{"error":"slow_down"}')
        })
      }),
    )
    const first = await postForm(url, { ...post, body: 'grant_type=refresh_token&refresh_token=r%C3%A9' })
    expect(first).toMatchObject({ status: 429, text: '{"error":"slow_down"}', truncated: false })
    expect(first.header('retry-after')).toBe('7')
    expect(seen[0]).toMatchObject({
      body: 'grant_type=refresh_token&refresh_token=r%C3%A9',
      type: 'application/x-www-form-urlencoded',
      length: '46',
    })
    await postForm(url, { ...post, body: 'again' })
    expect(seen[1]?.socket).toBe(seen[0]?.socket)
  })

  it('gives up on a silent server after the timeout', async () => {
    const url = await listen(createHttpServer(() => {}))
    const failure = await postForm(url, { ...post, timeoutMs: 200, body: 'x' }).catch((error) => error)
    expect(failure).toBeInstanceOf(FormPostError)
    expect(failure.kind).toBe('timeout')
  })

  it('stops reading an answer longer than maxBytes and says it was truncated', async () => {
    const url = await listen(
      createHttpServer((req, res) => {
        req.resume()
        res.write('x'.repeat(800))
        res.write('x'.repeat(800))
        // Never ends on its own: the client must stop reading.
      }),
    )
    const answer = await postForm(url, { ...post, body: 'x' })
    expect(answer).toMatchObject({ status: 200, truncated: true, text: '' })
  })

  it('reports an answer cut off in the middle as dropped', async () => {
    const url = await listen(
      createNetServer((socket) => {
        socket.once('data', () => {
          socket.end(
            'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"access',
          )
        })
      }),
    )
    const failure = await postForm(url, { ...post, body: 'x' }).catch((error) => error)
    expect(failure).toMatchObject({ kind: 'dropped' })
  })

  it('reports nobody listening as unreachable, with the network code and not the address', async () => {
    const url = await listen(createHttpServer())
    const closed = servers.pop() as Server
    await new Promise((resolve) => closed.close(resolve))
    const failure = await postForm(url, { ...post, body: 'x' }).catch((error) => error)
    expect(failure).toMatchObject({ kind: 'unreachable', networkCode: 'ECONNREFUSED' })
    expect(String(failure.message)).not.toContain('127.0.0.1')
  })

  it('sends once more on a new socket when a kept-alive socket is closed as it is reused', async () => {
    let connections = 0
    const url = await listen(
      createNetServer((socket) => {
        connections += 1
        let requests = 0
        socket.on('data', () => {
          requests += 1
          // The first socket answers once, then closes under the next request without answering.
          if (connections === 1 && requests === 2) socket.destroy()
          else socket.write('HTTP/1.1 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok')
        })
      }),
    )
    expect((await postForm(url, { ...post, body: 'one' })).text).toBe('ok')
    expect((await postForm(url, { ...post, body: 'two' })).text).toBe('ok')
    expect(connections).toBe(2)
  })

  // Node 24 from 24.5 and 22 from 22.21 send fetch through HTTP(S)_PROXY when NODE_USE_ENV_PROXY=1;
  // token requests follow.
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  it.runIf(major > 24 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21))(
    'goes through HTTP_PROXY when NODE_USE_ENV_PROXY=1, like fetch does',
    async () => {
      const seen: string[] = []
      const proxy = await listen(
        createHttpServer((req, res) => {
          seen.push(`${req.method} ${req.url}`)
          req.resume()
          res.end('{"via":"proxy"}')
        }),
      )
      vi.stubEnv('NODE_USE_ENV_PROXY', '1')
      vi.stubEnv('HTTP_PROXY', proxy.origin)
      vi.stubEnv('NO_PROXY', '')
      try {
        vi.resetModules()
        const fresh = await import('../../src/oauth/form-post.js')
        const answer = await fresh.postForm(new URL('http://token.example.invalid/oauth/token'), {
          ...post,
          body: 'x',
        })
        expect(answer.text).toBe('{"via":"proxy"}')
        expect(seen).toEqual(['POST http://token.example.invalid/oauth/token'])
      } finally {
        vi.unstubAllEnvs()
      }
    },
  )
})
