// Test-file order: the files that take a minute or more of wall time (mostly waiting on tokens
// to come due, or on spawned workers) start first, so the short files fill the other worker
// beside them instead of leaving one long file to run alone at the end. Vitest orders by the
// last run's durations when its cache has them; a fresh clone (CI) has none and would order
// by file size, which puts these small files last.
import type { TestSpecification } from 'vitest/node'
import { BaseSequencer } from 'vitest/node'

/** Paths (from the project root) of the files that run longest, longest first. */
const LONG_RUNNING = [
  'test/workers/scale.test.ts',
  'test/workers/workers.test.ts',
  'test/ops/rotation.test.ts',
]

function rank(spec: TestSpecification): number {
  const index = LONG_RUNNING.findIndex((path) => spec.moduleId.endsWith(path))
  return index === -1 ? LONG_RUNNING.length : index
}

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    return sorted
      .map((spec, at) => ({ spec, at }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.at - b.at)
      .map(({ spec }) => spec)
  }
}
