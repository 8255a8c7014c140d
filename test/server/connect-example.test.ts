// docs/server.md's connect-link examples run here as written: the backend snippet is
// docs/examples/connect-backend.mjs (and the markdown must include that file verbatim), and the
// curl command is taken from the markdown and run with the shell against a real server.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { buildBackend } from '../../docs/examples/connect-backend.mjs'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'
import { type ServerFixture, startServer, Visitor } from './support.js'

const run = promisify(execFile)
const DOC = readFileSync('docs/server.md', 'utf8')

/** The fenced block that follows `<!-- marker -->` in docs/server.md. */
function block(marker: string): string {
  const after = DOC.split(`<!-- ${marker} -->`)[1] ?? ''
  return /```\w*\n([\s\S]*?)```/.exec(after)?.[1] ?? ''
}

let f: ServerFixture
let backend: Awaited<ReturnType<typeof buildBackend>> | undefined
afterEach(async () => {
  await backend?.close()
  await f?.close()
})

describe('docs/server.md connect-link examples', () => {
  it('includes docs/examples/connect-backend.mjs verbatim', () => {
    expect(block('connect-backend-example')).toBe(readFileSync('docs/examples/connect-backend.mjs', 'utf8'))
  })

  it('the backend snippet sends its user through a connect link and back, connected', async () => {
    f = await startServer('bookingsync')
    backend = buildBackend({ innkeeperUrl: f.baseUrl, apiKey: f.apiKey })
    await backend.listen({ host: '127.0.0.1', port: 0 })
    const address = backend.server.address()
    const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    await f.keeper.apps.add(
      'smily',
      appFor(f.emulator, 'bookingsync', { scopes: ['public'], returnUrls: [`${origin}/innkeeper/`] }),
    )

    const start = await fetch(`${origin}/connect/smily`, {
      headers: { 'x-user-id': '42' },
      redirect: 'manual',
    })
    expect(start.status).toBe(303)
    const link = new URL(start.headers.get('location') ?? '')
    expect(link.origin).toBe(f.baseUrl)

    const visitor = new Visitor(f.baseUrl)
    await visitor.request(link.pathname)
    const started = await visitor.post(link.pathname, {})
    const consentUrl =
      /id="consent-link" href="([^"]+)"/.exec(started.text)?.[1]?.replaceAll('&amp;', '&') ?? ''
    const state = /name="state" value="([^"]+)"/.exec(started.text)?.[1] ?? ''
    const consent = await answerConsent(consentUrl)
    const done = await visitor.post(`${link.pathname}/code`, { code: consent.code ?? '', state })
    expect(done.status).toBe(303)
    const back = done.headers.get('location') ?? ''
    expect(back.startsWith(`${origin}/innkeeper/done?`)).toBe(true)

    const landed = await fetch(back, { headers: { 'x-user-id': '42' } })
    expect(await landed.json()).toEqual({ connected: 'smily/user-42', state: 'active' })
    // Someone else's id in the URL is not taken at its word.
    expect((await fetch(back, { headers: { 'x-user-id': '7' } })).status).toBe(400)
  })

  it('the curl command answers 201 with a link', async () => {
    f = await startServer('bookingsync')
    await f.keeper.apps.add(
      'smily',
      appFor(f.emulator, 'bookingsync', { returnUrls: ['https://app.example/innkeeper/'] }),
    )
    const command = block('connect-session-curl')
    expect(command).toContain('/api/connect-sessions')
    const { stdout } = await run('sh', ['-c', command], {
      env: { ...process.env, INNKEEPER_URL: f.baseUrl, INNKEEPER_API_KEY: f.apiKey },
    })
    const answer = JSON.parse(stdout)
    expect(answer.url).toMatch(new RegExp(`^${f.baseUrl}/connect/ikc_`))
    expect(answer.connectionId).toBe('smily/customer-42')
    expect((await fetch(answer.url)).status).toBe(200)
  })
})
