// `innkeeper providers`: correcting a built-in definition with a file (BookyFlow's announce path,
// which the platform's documentation does not name) and seeing the flow use it; broken files named with their field.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { addApp, type Home, makeHome } from '../support/cli.js'

let bookyflow: EmulatorHandle
let home: Home

beforeAll(async () => {
  // An installation that serves the channel announce somewhere else than Innkeeper assumes.
  bookyflow = await startEmulator('bookyflow', { config: { announcePath: '/channels/announce' } })
  home = makeHome()
})
afterAll(async () => {
  await bookyflow.close()
  home.close()
})

function file(name: string, content: unknown): string {
  const path = join(home.dir, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

describe('innkeeper providers', () => {
  it('corrects BookyFlow’s announce path with a file, and connect announces there', async () => {
    await addApp(home, 'bf', 'bookyflow', bookyflow, ['--scope', 'read write'])
    const refused = await home.run(['connect', 'bf', '--channel', 'my-channel'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/channel announce|404/)

    const fix = file('bf.json', {
      name: 'bookyflow',
      postConnect: [{ name: 'channel announce', path: '/channels/announce' }],
    })
    const added = await home.run(['providers', 'add', fix])
    expect(added.stderr).not.toMatch(/error/i)
    expect(added.code).toBe(0)
    expect(added.stdout).toContain('a correction of the built-in bookyflow')

    const list = JSON.parse((await home.run(['providers', 'list', '--json'])).stdout)
    expect(list.find((row: { name: string }) => row.name === 'bookyflow')).toMatchObject({
      source: 'override',
      file: join(home.dir, 'providers', 'bookyflow.json'),
    })
    expect(list.find((row: { name: string }) => row.name === 'bookingsync').source).toBe('built-in')
    const shown = JSON.parse((await home.run(['providers', 'show', 'bookyflow'])).stdout)
    expect(shown.postConnect[0]).toMatchObject({ path: '/channels/announce', method: 'POST' })
    expect(shown.urls.token).toBe('{app.baseUrl}/bookyflow/api/oauth/token')

    const connected = await home.run(['connect', 'bf', '--channel', 'my-channel'])
    expect(connected.stderr).toBe('')
    expect(connected.code).toBe(0)
    expect(connected.stdout).toContain('channel: my-channel')
    const created = await home.run(['request', 'bf', 'POST', '/cmf/properties', '--data', '{"name":"Dune"}'])
    expect(created.code).toBe(0)
  })

  it('refuses a broken file, naming the file and the field, and keeps nothing', async () => {
    const broken = file('broken.json', { name: 'bookyflow', postConnect: [{ name: 'x', method: 'FETCH' }] })
    const result = await home.run(['providers', 'add', broken])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(broken)
    expect(result.stderr).toMatch(/postConnect\.1\.(method|path)/)
    const typo = await home.run([
      'providers',
      'add',
      file('typo.json', { name: 'bookyflow', urls: { tokn: 'x' } }),
    ])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/typo\.json: urls\.tokn: not a field of a provider definition/)
    const notJson = await home.run(['providers', 'add', file('nojson.json', '{ name: ')])
    expect(notJson.stderr).toMatch(/nojson\.json: not valid JSON/)
    const shown = JSON.parse((await home.run(['providers', 'show', 'bookyflow'])).stdout)
    expect(shown.postConnect).toHaveLength(1)
  })

  it('stops every command on a broken file in the providers folder, except `providers` itself', async () => {
    const dropped = join(home.dir, 'providers', 'zz-broken.json')
    writeFileSync(dropped, JSON.stringify({ name: 'zz', displayName: 'ZZ' }))
    const apps = await home.run(['apps', 'list'])
    expect(apps.code).toBe(2)
    expect(apps.stderr).toContain(`${dropped}: urls:`)
    const removed = await home.run(['providers', 'remove', 'zz-broken'])
    expect(removed.code).toBe(0)
    expect((await home.run(['apps', 'list'])).code).toBe(0)
  })

  it('adds a new provider and takes it in apps add', async () => {
    const eu = file('eu.json', { name: 'bookyflow-eu', extends: 'bookyflow', displayName: 'BookyFlow EU' })
    expect((await home.run(['providers', 'add', eu])).stdout).toContain('a new provider bookyflow-eu')
    await addApp(home, 'eu', 'bookyflow-eu', bookyflow, ['--scope', 'read'])
    const connected = await home.run(['connect', 'eu', '--channel', 'eu-channel'])
    expect(connected.code).toBe(0)
    expect(connected.stdout).toContain('(BookyFlow EU)')
  })
})
