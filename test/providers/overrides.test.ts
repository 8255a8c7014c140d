// Provider definitions a user corrects or adds with data (`Innkeeper.open({ providers })`, the
// same files `innkeeper providers add` keeps): checked by the built-ins' schema, used by the flows.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Innkeeper } from '../../src/index.js'
import { appFor, type Fixture, setup, TEST_KEYS } from '../support/keeper.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

const ANNOUNCE_ELSEWHERE = {
  name: 'bookyflow',
  postConnect: [{ name: 'channel announce', path: '/channels/announce' }],
}

describe('provider definitions corrected with data', () => {
  it('announces BookyFlow channels at the path an override gives, where the installation serves it', async () => {
    fixture = await setup('bookyflow', {
      emulator: { config: { announcePath: '/channels/announce' } },
      keeper: { providers: [ANNOUNCE_ELSEWHERE] },
    })
    expect(fixture.keeper.providers.get('bookyflow').postConnect[0]).toMatchObject({
      path: '/channels/announce',
      method: 'POST',
      afterEveryToken: true,
    })
    await fixture.keeper.apps.add('bf', appFor(fixture.emulator, 'bookyflow'))
    const result = await fixture.keeper.connect('bf', { channel: 'my-channel', scopes: ['read', 'write'] })
    expect(result.kind === 'connected' && result.connection.metadata.channel).toBe('my-channel')
    const created = await fixture.keeper
      .connection('bf')
      .json<{ data: { name: string } }>('/cmf/properties', { method: 'POST', json: { name: 'Dune house' } })
    expect(created.data.name).toBe('Dune house')
  })

  it('without the override, the built-in path meets the installation’s 404', async () => {
    fixture = await setup('bookyflow', { emulator: { config: { announcePath: '/channels/announce' } } })
    await fixture.keeper.apps.add('bf', appFor(fixture.emulator, 'bookyflow'))
    await expect(fixture.keeper.connect('bf', { channel: 'my-channel' })).rejects.toThrow(
      /a follow-up step failed.*404/,
    )
  })

  it('reads the files in <home>/providers when it opens', async () => {
    fixture = await setup('bookyflow', { emulator: { config: { announcePath: '/channels/announce' } } })
    mkdirSync(join(fixture.dir, 'providers'))
    writeFileSync(join(fixture.dir, 'providers', 'bookyflow.json'), JSON.stringify(ANNOUNCE_ELSEWHERE))
    const keeper = await fixture.reopen()
    expect(keeper.providers.findEntry('bookyflow')?.source).toEqual({
      kind: 'override',
      from: join(fixture.dir, 'providers', 'bookyflow.json'),
    })
    await keeper.apps.add('bf', appFor(fixture.emulator, 'bookyflow'))
    const result = await keeper.connect('bf', { channel: 'my-channel' })
    expect(result.kind === 'connected' && result.connection.metadata.channel).toBe('my-channel')
    // The correction belongs to that Innkeeper: the first one, opened before the file, is unchanged.
    expect(fixture.keeper.providers.get('bookyflow').postConnect[0]?.path).toBe('/cmf/announce')
  })

  it('adds a new provider that extends a built-in', async () => {
    fixture = await setup('bookyflow', {
      keeper: { providers: [{ name: 'bookyflow-eu', extends: 'bookyflow', displayName: 'BookyFlow EU' }] },
    })
    const eu = fixture.keeper.providers.get('bookyflow-eu')
    expect([eu.displayName, eu.urls.token, eu.aliases]).toEqual([
      'BookyFlow EU',
      '{app.baseUrl}/bookyflow/api/oauth/token',
      [],
    ])
    await fixture.keeper.apps.add('eu', appFor(fixture.emulator, 'bookyflow-eu'))
    expect((await fixture.keeper.connect('eu')).kind).toBe('connected')
  })

  it('merges lists of named steps by name, and an empty list or null removes', async () => {
    const keeper = await Innkeeper.open({
      store: 'memory:',
      keys: TEST_KEYS,
      home: '/nonexistent',
      providers: [
        { name: 'bookyflow', postConnect: [] },
        {
          name: 'bookingsync',
          scopes: { forClientCredentials: null },
          urls: { api: 'https://api.example/v3' },
        },
        ANNOUNCE_ELSEWHERE,
      ],
    })
    try {
      const bookingsync = keeper.providers.get('smily')
      expect(bookingsync.scopes.forClientCredentials).toBeUndefined()
      expect(bookingsync.scopes.implicit).toEqual(['public'])
      expect([bookingsync.urls.api, bookingsync.aliases]).toEqual(['https://api.example/v3', ['smily']])
      // The empty list dropped the step; the next correction adds it back with its own fields only.
      expect(keeper.providers.get('bookyflow').postConnect).toEqual([
        expect.objectContaining({ name: 'channel announce', path: '/channels/announce', method: 'GET' }),
      ])
    } finally {
      await keeper.close()
    }
  })

  it('refuses a broken definition, naming where it came from and the field', async () => {
    const open = (providers: unknown[]) =>
      Innkeeper.open({
        store: 'memory:',
        keys: TEST_KEYS,
        home: '/nonexistent',
        providers: providers as never,
      })
    await expect(
      open([{ name: 'bookyflow', postConnect: [{ name: 'channel announce', path: 42 }] }]),
    ).rejects.toThrow(/providers\[0\] \(bookyflow\): postConnect\.0\.path: /)
    await expect(open([{ name: 'bookyflow', urls: { tokne: 'x' } }])).rejects.toThrow(
      /urls\.tokne: not a field of a provider definition/,
    )
    await expect(open([{ name: 'newcomer', displayName: 'New' }])).rejects.toThrow(
      /providers\[0\] \(newcomer\): urls: /,
    )
    await expect(open([{ name: 'bookyflow-eu', extends: 'nope' }])).rejects.toThrow(
      /extends: there is no provider "nope"/,
    )
  })
})
