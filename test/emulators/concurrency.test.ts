// The emulators under load: 1,000 concurrent token requests and API calls all get an answer, and
// the token bookkeeping stays exact (one refresh token, one winner).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, OOB_REDIRECT_URI, startEmulators } from '../../src/emulators/index.js'
import { bearer, postForm } from './http.js'

let bookingsync: EmulatorHandle
let bookyflow: EmulatorHandle
beforeAll(async () => {
  ;[bookingsync, bookyflow] = (await startEmulators(['bookingsync', 'bookyflow'])) as [
    EmulatorHandle,
    EmulatorHandle,
  ]
})
afterAll(() => Promise.all([bookingsync.close(), bookyflow.close()]))

describe('emulators under concurrency', () => {
  it('answers 1,000 concurrent client-credentials requests and API calls', async () => {
    const { info } = bookyflow
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () =>
        postForm(info.tokenUrl, {
          grant_type: 'client_credentials',
          client_id: info.clientId,
          client_secret: info.clientSecret,
          scope: 'read',
        }),
      ),
    )
    expect(answers.every((answer) => answer.status === 200)).toBe(true)
    expect(new Set(answers.map((answer) => answer.body.access_token)).size).toBe(1000)
    const calls = await Promise.all(
      answers.map((answer) =>
        fetch(`${info.apiUrl}/properties`, { headers: bearer(answer.body.access_token) }),
      ),
    )
    expect(calls.every((call) => call.status === 200)).toBe(true)
    expect(bookyflow.stats().tokenRequests.client_credentials).toBe(1000)
  })

  it('lets exactly one of 1,000 concurrent refreshes of one rotating refresh token win', async () => {
    const { info } = bookingsync
    bookingsync.configure({ reuseDetection: false })
    const { code } = bookingsync.approve()
    const client = { client_id: info.clientId, client_secret: info.clientSecret }
    const tokens = await postForm(info.tokenUrl, {
      ...client,
      code,
      grant_type: 'authorization_code',
      redirect_uri: OOB_REDIRECT_URI,
    })
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () =>
        postForm(info.tokenUrl, {
          ...client,
          grant_type: 'refresh_token',
          refresh_token: String(tokens.body.refresh_token),
          redirect_uri: OOB_REDIRECT_URI,
        }),
      ),
    )
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1)
    expect(answers.filter((answer) => answer.body.error === 'invalid_grant')).toHaveLength(999)
    const stats = bookingsync.stats()
    expect(stats.maxUsesOfOneRefreshToken).toBe(1000)
    expect(Object.values(stats.refreshesByFamily)).toEqual([1])
  })
})
