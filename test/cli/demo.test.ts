// `innkeeper demo` runs every platform's flow against the emulators and exits 0 (how fast is for `npm run bench`).
import { describe, expect, it } from 'vitest'
import { EMULATED_PLATFORMS } from '../../src/emulators/index.js'
import { makeHome } from '../support/cli.js'

describe('innkeeper demo', () => {
  it('runs every platform’s flow, narrated, and exits 0', async () => {
    const home = makeHome()
    try {
      const result = await home.run(['demo'])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      for (const platform of EMULATED_PLATFORMS) expect(result.stdout).toContain(`${platform.label} — `)
      expect(result.stdout).toContain('refresh token rotated')
      expect(result.stdout).toMatch(/subscriptionId: \S+/)
    } finally {
      home.close()
    }
  }, 180_000)
})
