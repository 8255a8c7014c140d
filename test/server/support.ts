// Server test fixtures: an emulator and an Innkeeper on a temporary SQLite file (clocks moved
// together by `advance`), the server from `createServer` on a real port, and an API key.
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { InnkeeperOptions } from '../../src/innkeeper.js'
import { createApiKey } from '../../src/server/api-keys.js'
import { createServer, type ServerOptions } from '../../src/server/server.js'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup } from '../support/keeper.js'

export interface ServerFixture extends Fixture {
  server: FastifyInstance
  baseUrl: string
  apiKey: string
  logs: string[]
  api(path: string, init?: RequestInit & { key?: string | null }): Promise<Response>
}

export async function startServer(
  platform: Parameters<typeof setup>[0],
  options: Partial<ServerOptions> = {},
  keeper: Partial<InnkeeperOptions> = {},
): Promise<ServerFixture> {
  const fixture = await setup(platform, { keeper })
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const server = await createServer({ keeper: fixture.keeper, logger: { stream }, ...options })
  await server.listen({ host: '127.0.0.1', port: 0 })
  const address = server.server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  const baseUrl = `http://127.0.0.1:${address.port}`
  const { key } = await createApiKey(fixture.keeper.store, 'tests')
  const close = fixture.close
  return {
    ...fixture,
    server,
    baseUrl,
    apiKey: key,
    logs,
    api(path, init = {}) {
      const { key: given, ...rest } = init
      const headers = new Headers(rest.headers)
      const usedKey = given === undefined ? key : given
      if (usedKey !== null) headers.set('authorization', `Bearer ${usedKey}`)
      return fetch(`${baseUrl}${path}`, { ...rest, headers })
    },
    async close() {
      await server.close()
      await close()
    },
  }
}

/** A tiny browser: keeps cookies, reads the CSRF token of the last page. */
export class Visitor {
  cookies = new Map<string, string>()
  csrf = ''
  constructor(private readonly baseUrl: string) {}

  async request(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const answer = await fetch(`${this.baseUrl}${path}`, { ...init, headers, redirect: 'manual' })
    for (const line of answer.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [name, ...value] = (pair ?? '').split('=')
      if (name) this.cookies.set(name, value.join('='))
    }
    const text = await answer.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1]
    if (token) this.csrf = token
    return { status: answer.status, text, headers: answer.headers }
  }

  post(path: string, fields: Record<string, string>, withCsrf = true) {
    const body = new URLSearchParams(fields)
    if (withCsrf) body.set('_csrf', this.csrf)
    return this.request(path, { method: 'POST', body })
  }

  async login(password: string) {
    await this.request('/login')
    return this.post('/login', { password, next: '/' })
  }
}

/** Registers `acme-bs` against the BookingSync emulator and connects it out-of-band. */
export async function connectBookingSync(f: Fixture): Promise<void> {
  await f.keeper.apps.add(
    'acme-bs',
    appFor(f.emulator, 'bookingsync', { scopes: ['public', 'rentals_read'] }),
  )
  const start = await f.keeper.connect('acme-bs')
  if (start.kind !== 'authorize') throw new Error('expected an authorization step')
  const consent = await answerConsent(start.url)
  await start.complete({ code: consent.code })
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers and assert on them
export type Json = any

export function json(response: Response): Promise<Json> {
  return response.json() as Promise<Json>
}
