// The committed client types (src/client/schema.ts) are what openapi-typescript makes of the
// current OpenAPI document: the generator runs into a temporary directory and the files must match.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'

it('src/client/schema.ts is up to date with the OpenAPI document (else run `npm run generate:client`)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'innkeeper-schema-'))
  try {
    const out = join(dir, 'schema.ts')
    // Reads the built document: the test setup builds dist/ first.
    const run = spawnSync(process.execPath, ['scripts/generate-client.js', '--out', out], {
      encoding: 'utf8',
    })
    expect(run.status, run.stderr).toBe(0)
    const fresh = readFileSync(out, 'utf8')
    const committed = readFileSync('src/client/schema.ts', 'utf8')
    expect(committed === fresh, 'src/client/schema.ts is stale: run `npm run generate:client`').toBe(true)
    expect(fresh).toContain('"/api/webhooks/{id}"')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
