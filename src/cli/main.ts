#!/usr/bin/env node
// The `innkeeper` executable. It turns on Node's module compile cache first (Node ≥ 22.1; a no-op
// before), so a one-shot command such as `innkeeper token` compiles its modules once and later
// starts read them from the cache (in the OS temp directory; NODE_DISABLE_COMPILE_CACHE=1 turns it
// off). Then it runs the command line (`run.ts`), loaded only now so that the cache applies to it.
import nodeModule from 'node:module'

;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()
await import('./run.js')
