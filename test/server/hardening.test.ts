// Hostile requests against the service (issue 13): where the login sends a browser afterwards,
// which Host names it answers, whether the proxy stays under the API base, whether a copied
// session cookie outlives logout, and whether unknown connection ids fill memory.
import { afterEach, describe, expect, it } from 'vitest'
import { type ServerFixture, startServer } from './support.js'

let f: ServerFixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

describe('the redirect after login', () => {
  it('goes only to a path on this server, however the way off-site is encoded', async () => {
    // The loopback demo redirects at once, without a login form.
    f = await startServer('bookingsync', { dashboardAuth: 'none', rateLimit: { loginPerMinute: 1000 } })
    const locationFor = async (next: string) => {
      const answer = await fetch(`${f!.baseUrl}/login?next=${next}`, { redirect: 'manual' })
      expect(answer.status).toBe(303)
      return answer.headers.get('location')
    }
    for (const hostile of [
      '/%09/evil.example/x', // tab: browsers drop it and read //evil.example
      '/%0a/evil.example/x',
      '/%0d%0a/evil.example/x',
      '%2F%2Fevil.example/x',
      '/%2Fevil.example/x',
      '/%252F/evil.example/x', // encoded twice
      '/%5Cevil.example/x', // backslash reads as a slash
      '/%5C%5Cevil.example',
      '%5C%5Cevil.example',
      '//evil.example/x',
      'https://evil.example/x',
      '/%00/evil.example',
      '/%E2%80%AE%25', // undecodable after one round
      'evil.example',
    ]) {
      expect(await locationFor(hostile), hostile).toBe('/')
    }
    expect(await locationFor(encodeURIComponent('/audit?connection=acme%2Fmain'))).toBe(
      '/audit?connection=acme%2Fmain',
    )
    expect(await locationFor('/')).toBe('/')
  })
})
