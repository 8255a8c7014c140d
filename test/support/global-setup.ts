// Builds `dist/` once before the tests that drive the built CLI or spawn child processes.
// `npm test` builds first and sets INNKEEPER_TEST_BUILT=1, so it is not done twice.
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  if (process.env.INNKEEPER_TEST_BUILT === '1') return
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
