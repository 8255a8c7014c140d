// The second half of `npm run build` (after tsc, which builds the library's entry points): bundles
// the `innkeeper` command line, `src/cli/main.ts`, with esbuild into `dist/cli/main.js` and a few
// chunks in `dist/cli/chunks/`. Why: a one-shot command such as `innkeeper token` otherwise reads,
// resolves and compiles about a hundred small ES modules, which cost more than the command's own
// work (issue 15, `cli.coldStart`). Code splitting keeps every lazy `import()` lazy: a command's
// file, the server, the emulators and the PostgreSQL and Redis drivers stay in chunks loaded only
// by the commands that use them, and modules the commands share are loaded once (one in-flight
// registry, one provider catalogue). The small pure-JavaScript packages that one-shot commands
// load (BUNDLED) go in too, saving their resolution through node_modules; the others stay outside
// the bundle and load from node_modules as before: native better-sqlite3, pino with its worker
// files, and what only some commands load (the server, the store drivers, zod for provider files).
// Source maps (`*.js.map`, with the sources) turn stack traces back into `src/` lines under
// `node --enable-source-maps`.
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const outdir = join(root, 'dist/cli')
const BUNDLED = ['commander', 'lru-cache', 'oauth4webapi']

const { build } = await import('esbuild').catch(() => {
  console.error('build-cli: esbuild is missing from node_modules (a devDependency): run `npm install`.')
  process.exit(1)
})

rmSync(outdir, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  external: Object.keys(manifest.dependencies).filter((name) => !BUNDLED.includes(name)),
  // commander is CommonJS: its `require('node:…')` calls need a `require` in an ES module.
  banner: {
    js: "import { createRequire as __cjsRequire } from 'node:module'\nconst require = __cjsRequire(import.meta.url)",
  },
  // See src/cli/build-constants.d.ts.
  define: { INNKEEPER_VERSION: JSON.stringify(manifest.version) },
  sourcemap: true,
  logLevel: 'warning',
})
