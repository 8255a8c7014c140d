// Vitest: TypeScript and ESM without a build step, per-file isolation, and a watch mode;
// node:test would need a loader for TypeScript and has no per-test timeout ergonomics.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CI shares two busy cores, and tests assert correctness, never speed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default'],
  },
})
