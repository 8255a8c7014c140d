// The README's "How it stays correct" promises are checked against the code base: each one that
// names its limits names the tests that prove them, and those tests exist and say what it says.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const readme = readFileSync('README.md', 'utf8')
const promises = readme.slice(readme.indexOf('## How it stays correct'), readme.indexOf('## Performance'))
const bullet = (start: string) => {
  const at = promises.indexOf(`- **${start}`)
  expect(at, `README bullet "${start}"`).toBeGreaterThanOrEqual(0)
  const end = promises.indexOf('\n- **', at + 1)
  return promises.slice(at, end === -1 ? undefined : end).replace(/\s+/g, ' ')
}

describe('README: how it stays correct', () => {
  it('promises no more about refresh tokens than the code keeps, and names the window where one can be lost', () => {
    expect(promises).not.toMatch(/No refresh token is ever lost/)
    const text = bullet('A refreshed token is committed before it is used')
    expect(text).toMatch(/after the platform rotated it and before Innkeeper committed it/)
    expect(text).toMatch(/SIGKILL, a crash, a power cut/)
    expect(text).toMatch(/`needs_reauth`/)
    expect(text).toMatch(/grace period/)
    // A store refusing the write is no longer part of the window: the recovery journal covers it.
    expect(text).toMatch(/recovery journal/)
    expect(text).toMatch(/`test\/connections\/store-outage\.test\.ts`/)
    const files = [...text.matchAll(/`(test\/[^`]+\.ts)`/g)].map((match) => match[1]!)
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) expect(existsSync(file), file).toBe(true)
    // The cited kill tests cover both sides of the window, with and without a grace period.
    const kill = readFileSync('test/workers/kill.ts', 'utf8')
    expect(kill).toMatch(/SIGKILL before the provider committed/)
    expect(kill).toMatch(/SIGKILL after the provider committed, grace period on/)
    expect(kill).toMatch(/response dropped after commit, no grace, reuse detection on: needs_reauth/)
  })
})
