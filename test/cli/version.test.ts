// `innkeeper --version` (or `-V`) prints package.json's version and exits 0, without loading the
// command line (main.ts answers it; no timing here: what it loads is what keeps it quick).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, type Home, makeHome } from '../support/cli.js'

const RECORDER = join(import.meta.dirname, '../support/record-modules.mjs')
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }

let home: Home
beforeAll(() => {
  home = makeHome()
})
afterAll(() => home.close())

describe('innkeeper --version', () => {
  it.each(['--version', '-V'])(
    '%s prints the package version and exits 0, loading nothing but main.js',
    (flag) => {
      const out = join(home.dir, `modules${flag}.txt`)
      const result = spawnSync(process.execPath, ['--import', RECORDER, CLI, flag], {
        env: { ...home.env, RECORD_MODULES: out },
        encoding: 'utf8',
      })
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
      expect(result.stdout).toBe(`${version}\n`)
      const loaded = readFileSync(out, 'utf8')
        .split('\n')
        .filter((line) => line.includes('/dist/cli/'))
      expect(loaded.map((line) => line.replace(/^.*\/dist\/cli\//, ''))).toEqual(['main.js'])
    },
  )

  it('is also understood beside a global option, and listed in --help', async () => {
    const result = await home.run(['--store', 'memory:', '--version'])
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' })
    const help = await home.run(['--help'])
    expect(help.stdout).toContain('-V, --version')
  })
})
