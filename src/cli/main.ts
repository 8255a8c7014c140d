#!/usr/bin/env node
// The `innkeeper` executable. It turns on Node's module compile cache first (Node ≥ 22.1; a no-op
// before), so a one-shot command such as `innkeeper token` compiles its modules once and later
// starts read them from the cache (in the OS temp directory; NODE_DISABLE_COMPILE_CACHE=1 turns it
// off). Then it runs the command line (`run.ts`), loaded only now so that the cache applies to it.
// Built by scripts/build-cli.js into one small dist/cli/main.js and a few chunks (not by tsc):
// a one-shot command reads a couple of dozen files instead of a hundred modules.
// `innkeeper --version` (or `-V`) alone is answered here, without loading the command line at all
// (its version is written in at build time, see build-constants.d.ts).
import nodeModule from 'node:module'

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${INNKEEPER_VERSION}\n`)
} else {
  ;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()
  await import('./run.js')
}
