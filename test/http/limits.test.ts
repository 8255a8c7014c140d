// src/http/limits.ts through a connection: a request timeout and a response size limit, so an API
// that never answers or answers too much fails with a typed error instead of hanging or filling memory.
import { afterEach, describe, expect, it } from 'vitest'
import { limitResponse } from '../../src/http/limits.js'
import { type Fixture, setupConnected } from '../support/keeper.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe('requests to a platform that is silent or answers too much', () => {
  it('conn.fetch and conn.json to a silent API fail with provider_timeout after the configured timeout', async () => {
    fixture = await setupConnected()
    const keeper = await fixture.reopen({ requestTimeoutMs: '300ms' })
    const conn = keeper.connection('app/main')
    await conn.accessToken()
    fixture.emulator.configure({ latencyMs: 5_000 })
    await expect(conn.fetch('/rentals')).rejects.toMatchObject({
      code: 'provider_timeout',
      message: expect.stringContaining('did not answer GET'),
    })
    await expect(conn.json('/rentals')).rejects.toMatchObject({ code: 'provider_timeout' })
    // The token endpoint keeps to a configured timeout as well.
    await expect(conn.refresh()).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: expect.stringContaining('did not answer in time'),
    })
  })

  it('an answer over the size limit is refused with response_too_large', async () => {
    fixture = await setupConnected()
    const keeper = await fixture.reopen({ maxResponseBytes: 16 })
    const conn = keeper.connection('app/main')
    await expect(conn.json('/rentals')).rejects.toMatchObject({ code: 'response_too_large' })
    const response = await conn.fetch('/rentals').catch((error: unknown) => error)
    if (response instanceof Response) {
      await expect(response.text()).rejects.toMatchObject({ code: 'response_too_large' })
    } else {
      expect(response).toMatchObject({ code: 'response_too_large' })
    }
  })

  it('a request timeout that is not a duration is refused before anything opens', async () => {
    await expect(
      import('../../src/index.js').then(({ Innkeeper }) =>
        Innkeeper.open({ store: 'memory:', requestTimeoutMs: 'soon' }),
      ),
    ).rejects.toMatchObject({ code: 'invalid_config' })
  })
})

describe('limitResponse, the cap on any answer body', () => {
  const tooLarge = () => new Error('too large')
  const streamed = (...sizes: number[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const size of sizes) controller.enqueue(new Uint8Array(size))
        controller.close()
      },
    })

  it('counts a body of no declared length and errors once it passes the limit', async () => {
    const limited = limitResponse(new Response(streamed(20, 20)), 32, tooLarge)
    await expect(limited.arrayBuffer()).rejects.toThrow('too large')
  })

  it('counts a compressed body whatever length it declares (it grows when decoded)', async () => {
    const headers = { 'content-length': '10', 'content-encoding': 'gzip' }
    const limited = limitResponse(new Response(streamed(20, 20), { headers }), 32, tooLarge)
    await expect(limited.arrayBuffer()).rejects.toThrow('too large')
  })

  it('tells when a counted body has been read to its end, and passes a declared one as it is', async () => {
    let ended = 0
    const counted = limitResponse(new Response(streamed(8, 8)), 32, tooLarge, () => {
      ended += 1
    })
    expect((await counted.arrayBuffer()).byteLength).toBe(16)
    expect(ended).toBe(1)
    const declared = new Response('abc', { headers: { 'content-length': '3' } })
    expect(limitResponse(declared, 32, tooLarge)).toBe(declared)
  })
})
