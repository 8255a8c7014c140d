// Vitest: TypeScript and ESM without a build step, per-file isolation, and a watch mode;
// node:test would need a loader for TypeScript and has no per-test timeout ergonomics.
import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'
import LongFirstSequencer from './test/support/sequencer.js'
import { TEST_HOME } from './test/support/test-home.js'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CI shares two busy cores, and tests assert correctness, never speed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // At least two files at a time, also on two cores (Vitest's default is cores − 1): most files
    // spend their time waiting on emulators, timers and child processes, not on the CPU, and
    // every test uses its own schema, key prefix or temporary directory, so files never share state.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongFirstSequencer },
    globalSetup: ['test/support/global-setup.ts'],
    // Never the real ~/.innkeeper: tests and the processes they spawn share this run's temporary home.
    env: { INNKEEPER_HOME: TEST_HOME },
    reporters: ['default'],
  },
})
