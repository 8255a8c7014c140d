// `innkeeper demo` runs every platform's flow against the emulators and exits 0 (how fast is for `npm run bench`).
import { describe, expect, it } from 'vitest'
import { makeHome } from '../support/cli.js'

describe('innkeeper demo', () => {
  it('runs every platform’s flow, narrated, and exits 0', async () => {
    const home = makeHome()
    try {
      const result = await home.run(['demo'])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      for (const text of ['BookingSync / Smily', 'Booking Experts', 'bookingtime', 'BookyFlow', 'rotated']) {
        expect(result.stdout).toContain(text)
      }
      expect(result.stdout).toMatch(/subscriptionId: \S+/)
    } finally {
      home.close()
    }
  }, 180_000)
})
