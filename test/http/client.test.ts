// src/http/client.ts through a connection: what an API call does when the platform says "slow down".
import { afterEach, describe, expect, it } from 'vitest'
import { type Fixture, setupConnected } from '../support/keeper.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe('API calls', () => {
  it('waits out a 429 with Retry-After and then answers', async () => {
    fixture = await setupConnected('bookingsync')
    fixture.emulator.configure({ rateLimitNextApiRequests: { count: 1, retryAfter: 1 } })
    const started = Date.now()
    const answer = await fixture.keeper.connection('app/main').json<{ rentals: unknown[] }>('/rentals')
    expect(Array.isArray(answer.rentals)).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })
})
