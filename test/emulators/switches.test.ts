// The per-test switches and the control API, on the BookingSync emulator (the rotating platform):
// reuse detection, grace period, lost responses, 5xx, 429, latency, lifetimes, stats, revocation.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type EmulatorHandle,
  OOB_REDIRECT_URI,
  startEmulator,
  tokenFingerprint,
} from '../../src/emulators/index.js'
import { bearer, get, postForm, postJson } from './http.js'

let emulator: EmulatorHandle
beforeAll(async () => {
  emulator = await startEmulator('bookingsync')
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const client = () => ({ client_id: emulator.info.clientId, client_secret: emulator.info.clientSecret })

async function connect() {
  const { code } = emulator.approve()
  const answer = await postForm(emulator.info.tokenUrl, {
    ...client(),
    code,
    grant_type: 'authorization_code',
    redirect_uri: OOB_REDIRECT_URI,
  })
  return answer.body as { access_token: string; refresh_token: string }
}

const refresh = (refreshToken: string) =>
  postForm(emulator.info.tokenUrl, {
    ...client(),
    refresh_token: refreshToken,
    grant_type: 'refresh_token',
    redirect_uri: OOB_REDIRECT_URI,
  })

const admin = (path: string, body: unknown = {}) => postJson(`${emulator.info.adminUrl}${path}`, body)
const adminGet = (path: string) => get(`${emulator.info.adminUrl}${path}`)

describe('emulator switches', () => {
  it('revokes the whole token family when a rotated refresh token is reused', async () => {
    const first = await connect()
    const second = (await refresh(first.refresh_token)).body
    const third = (await refresh(String(second.refresh_token))).body
    const reuse = await refresh(first.refresh_token)
    expect([reuse.status, reuse.body.error]).toEqual([400, 'invalid_grant'])
    // Every token descending from that authorization is dead, the newest included.
    expect((await refresh(String(third.refresh_token))).body.error).toBe('invalid_grant')
    for (const token of [first.access_token, second.access_token, third.access_token]) {
      expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(token))).status).toBe(401)
    }
    const stats = emulator.stats()
    expect(stats.reuseDetected).toBe(1)
    expect(stats.familiesRevoked).toBe(1)
    // Another authorization is untouched.
    const other = await connect()
    expect((await refresh(other.refresh_token)).status).toBe(200)
  })

  it('with reuse detection off, a reused token is refused but the family lives on', async () => {
    emulator.configure({ reuseDetection: false })
    const first = await connect()
    const second = (await refresh(first.refresh_token)).body
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant')
    expect((await refresh(String(second.refresh_token))).status).toBe(200)
    expect(emulator.stats().familiesRevoked).toBe(0)
  })

  it('accepts a rotated refresh token inside the grace period and answers with the current pair', async () => {
    emulator.configure({ reuseGraceSeconds: 30 })
    const first = await connect()
    const rotated = (await refresh(first.refresh_token)).body
    const replay = await refresh(first.refresh_token)
    expect(replay.status).toBe(200)
    expect(replay.body.refresh_token).toBe(rotated.refresh_token)
    expect(replay.body.access_token).toBe(rotated.access_token)
    emulator.advance(31)
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant')
    expect(emulator.stats()).toMatchObject({ graceReplays: 1, reuseDetected: 1 })
  })

  it('keeps the same refresh token when rotation is off', async () => {
    emulator.configure({ rotateRefreshTokens: false })
    const first = await connect()
    const again = await refresh(first.refresh_token)
    expect(again.body.refresh_token).toBe(first.refresh_token)
    expect((await refresh(first.refresh_token)).status).toBe(200)
  })

  it('drops the connection before committing: the old refresh token still works', async () => {
    const first = await connect()
    emulator.configure({ dropNextTokenResponses: 1 })
    await expect(refresh(first.refresh_token)).rejects.toThrow()
    expect((await refresh(first.refresh_token)).status).toBe(200)
    expect(emulator.stats().injected.drops).toBe(1)
  })

  it('drops the response after committing the rotation: the lost response leaves the old token rotated', async () => {
    const first = await connect()
    await admin('/config', { dropNextTokenResponses: { count: 1, afterCommit: true } })
    await expect(refresh(first.refresh_token)).rejects.toThrow()
    const retry = await refresh(first.refresh_token)
    expect(retry.body.error).toBe('invalid_grant')
    expect(emulator.stats()).toMatchObject({ reuseDetected: 1, injected: { dropsAfterCommit: 1 } })
  })

  it('with no grace period, a retry within the same millisecond as the rotation is reuse too', async () => {
    // A fast retry on loopback can land in the millisecond the token rotated in (often on Node 24):
    // a grace period of 0 must still mean none. The clock is held still to make that certain.
    const first = await connect()
    emulator.configure({ dropNextTokenResponses: { count: 1, afterCommit: true } })
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    try {
      await expect(refresh(first.refresh_token)).rejects.toThrow()
      expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant')
    } finally {
      vi.useRealTimers()
    }
    expect(emulator.stats()).toMatchObject({ graceReplays: 0, reuseDetected: 1 })
  })

  it('a lost response is recoverable inside the grace period', async () => {
    const first = await connect()
    emulator.configure({ dropNextTokenResponses: 1, afterCommit: true, reuseGraceSeconds: 10 })
    await expect(refresh(first.refresh_token)).rejects.toThrow()
    const retry = await refresh(first.refresh_token)
    expect(retry.status).toBe(200)
    expect((await refresh(String(retry.body.refresh_token))).status).toBe(200)
  })

  it('fails the next N token requests with the configured 5xx, without consuming the token', async () => {
    const first = await connect()
    emulator.configure({ failNextTokenRequests: { count: 2, status: 502, body: 'html' } })
    const a = await refresh(first.refresh_token)
    const b = await refresh(first.refresh_token)
    expect([a.status, b.status]).toEqual([502, 502])
    expect(a.text).toMatch(/<html>/)
    expect((await refresh(first.refresh_token)).status).toBe(200)
    emulator.configure({ failNextTokenRequests: 1 })
    const json = await refresh('whatever')
    expect([json.status, json.body.error]).toEqual([503, 'server_error'])
  })

  it('answers 429 with Retry-After to the next N token requests', async () => {
    await admin('/config', { rateLimitNext: { count: 1, retryAfter: 7 } })
    const limited = await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('7')
    expect(
      (await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })).status,
    ).toBe(200)
  })

  it('answers 429 and 5xx to API requests when told to', async () => {
    const { access_token } = await connect()
    emulator.configure({ rateLimitNextApiRequests: { count: 1, retryAfter: 2 }, failNextApiRequests: 1 })
    const limited = await get(`${emulator.info.apiUrl}/accounts`, bearer(access_token))
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '2'])
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(access_token))).status).toBe(503)
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(access_token))).status).toBe(200)
  })

  it('adds latency to token requests', async () => {
    emulator.configure({ latencyMs: 150 })
    const started = performance.now()
    await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('rate-limits token requests per client: over N a second, 429 with Retry-After', async () => {
    emulator.configure({ tokenRequestsPerSecond: 2 })
    const ask = () => postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })
    // However the requests fall across second boundaries, at most 2 per second pass: 40 in a
    // row cannot all pass on any machine that sends them within 20 seconds.
    let limited: Awaited<ReturnType<typeof ask>> | undefined
    let passed = 0
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await ask()
      if (answer.status === 429) limited = answer
      else passed += 1
    }
    expect(limited?.status).toBe(429)
    expect(limited?.body.error).toBe('rate_limited')
    expect(Number(limited?.headers.get('retry-after'))).toBe(1)
    expect(passed).toBeGreaterThanOrEqual(2)
    const stats = emulator.stats()
    expect(stats.overRateLimit).toBe(1)
    expect(stats.injected.rateLimited).toBe(1)
    emulator.configure({ tokenRequestsPerSecond: 0 })
    for (let i = 0; i < 5; i++) expect((await ask()).status).toBe(200)
  })

  it('varies the latency by the jitter (the switch is validated)', async () => {
    emulator.configure({ latencyMs: 20, latencyJitterMs: 10 })
    expect(emulator.config()).toMatchObject({ latencyMs: 20, latencyJitterMs: 10 })
    expect(
      (await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })).status,
    ).toBe(200)
    expect(() => emulator.configure({ latencyJitterMs: -1 })).toThrow(/latencyJitterMs/)
  })

  it('uses the configured token lifetimes', async () => {
    emulator.configure({ accessTokenTtl: 60, refreshTokenTtl: 120 })
    const first = await connect()
    emulator.advance(60)
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(first.access_token))).status).toBe(401)
    emulator.advance(60)
    expect((await refresh(first.refresh_token)).body.error_description).toMatch(/expired/)
  })

  it('advances the clock through the control API', async () => {
    const first = await connect()
    const advanced = await admin('/advance?seconds=7200')
    expect(advanced.body.advancedSeconds).toBe(7200)
    expect((await get(`${emulator.info.apiUrl}/accounts`, bearer(first.access_token))).status).toBe(401)
  })

  it('reports stats: token requests by grant, refreshes per family and per token', async () => {
    const first = await connect()
    const second = (await refresh(first.refresh_token)).body
    await refresh(String(second.refresh_token))
    await postForm(emulator.info.tokenUrl, { ...client(), grant_type: 'client_credentials' })
    const { body: stats } = await adminGet('/stats')
    expect(stats.tokenRequests).toEqual({
      total: 4,
      authorization_code: 1,
      refresh_token: 2,
      client_credentials: 1,
    })
    expect(Object.values(stats.refreshesByFamily as Record<string, number>)).toEqual([2])
    expect((stats.refreshesByToken as Record<string, number>)[tokenFingerprint(first.refresh_token)]).toBe(1)
    expect(stats.maxUsesOfOneRefreshToken).toBe(1)
    expect(stats).toMatchObject({ reuseDetected: 0, familiesRevoked: 0, tokensIssued: 4 })
  })

  it('revokes one grant through the control API (the owner uninstalls the app)', async () => {
    const first = await connect()
    const other = await connect()
    const revoked = await admin('/revoke', { token: first.refresh_token })
    expect(revoked.body.revoked).toBe(true)
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant')
    expect((await refresh(other.refresh_token)).status).toBe(200)
    const families = (await adminGet('/families')).body.families as Array<{ revoked: boolean }>
    expect(families.filter((family) => family.revoked)).toHaveLength(1)
  })

  it('refuses an unknown switch with a message that lists the allowed ones', async () => {
    const answer = await admin('/config', { rotate: true })
    expect(answer.status).toBe(400)
    expect(answer.body.error_description).toContain('rotateRefreshTokens')
    expect(() => emulator.configure({ latencyMs: -1 })).toThrow(/latencyMs/)
  })

  it('issues a code through the control API and reports the emulator info', async () => {
    const approved = await admin('/approve', { state: 'abc', redirectUri: 'http://127.0.0.1:4000/cb' })
    expect(approved.body.location).toBe(`http://127.0.0.1:4000/cb?code=${approved.body.code}&state=abc`)
    expect((await adminGet('/info')).body).toEqual(emulator.info)
  })

  it('rotates a client secret through the control API: the old one is refused, reset restores it', async () => {
    const cc = (secret: string) =>
      postForm(emulator.info.tokenUrl, {
        client_id: emulator.info.clientId,
        client_secret: secret,
        grant_type: 'client_credentials',
      })
    expect((await admin(`/clients/${emulator.info.clientId}/secret`, { secret: 'new-secret' })).status).toBe(
      200,
    )
    expect((await cc(emulator.info.clientSecret)).body.error).toBe('invalid_client')
    expect((await cc('new-secret')).status).toBe(200)
    expect((await admin('/clients/nobody/secret', { secret: 'x' })).status).toBe(404)
    expect((await admin(`/clients/${emulator.info.clientId}/secret`, {})).status).toBe(400)
    await admin('/reset')
    expect((await cc(emulator.info.clientSecret)).status).toBe(200)
  })

  it('resets state and switches through the control API', async () => {
    const first = await connect()
    emulator.configure({ latencyMs: 5 })
    await admin('/reset')
    expect(emulator.config().latencyMs).toBe(0)
    expect(emulator.stats().tokenRequests.total).toBe(0)
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant')
  })
})
