// Builds `dist/` once before the tests that drive the built CLI or spawn child processes.
// `npm test` builds first (strictly) and sets INNKEEPER_TEST_BUILT=1, so it is not done twice.
// Here a type error elsewhere must not block unrelated tests: tsc still emits, so warn and go on;
// the CLI bundle (scripts/build-cli.js, which does not type-check) is made either way.
// It also returns the removal of the run's shared INNKEEPER_HOME (test/support/test-home.ts).
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { TEST_HOME } from './test-home.js'

export default function setup(): () => void {
  const teardown = () => rmSync(TEST_HOME, { recursive: true, force: true })
  if (process.env.INNKEEPER_TEST_BUILT === '1') return teardown
  const steps = [
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' }),
    spawnSync(process.execPath, ['scripts/build-cli.js'], { encoding: 'utf8' }),
  ]
  for (const build of steps) {
    if (build.status !== 0) {
      process.stderr.write(
        `warning: the build reported errors; tests run against what it emitted\n${build.stdout}${build.stderr}`,
      )
    }
  }
  return teardown
}
