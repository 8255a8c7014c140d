// `node --import ./record-modules.mjs …`: appends every module the process loads to the file
// named by RECORD_MODULES (ES modules as the loader resolves them, CommonJS files from the
// require cache at exit), one per line, so a test can say what a command did not load.
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'

const out = process.env.RECORD_MODULES
if (out) {
  register('./record-modules-hooks.mjs', import.meta.url, { data: { out } })
  const require = createRequire(import.meta.url)
  process.on('exit', () => {
    appendFileSync(out, `${Object.keys(require.cache).join('\n')}\n`)
  })
}
