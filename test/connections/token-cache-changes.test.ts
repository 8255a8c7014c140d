// The token cache and the changes feed on every store that shares records between processes:
// the record a refresh of this process just saved is answered from memory, although the store's
// notice of that very save comes back through this process's feed; a refresh or a disconnect by
// another process still reaches this one (src/connections/token-cache.ts, `rememberSaved`).
import { afterEach, describe, expect, it } from 'vitest'
import { loadKeyring } from '../../src/crypto/index.js'
import { Innkeeper } from '../../src/index.js'
import type { StoreChange } from '../../src/stores/changes.js'
import { openStore } from '../../src/stores/index.js'
import type { Store } from '../../src/stores/store.js'
import { answerConsent } from '../support/consent.js'
import { appFor, type Fixture, setup, TEST_KEYS } from '../support/keeper.js'
import { scratchStore } from '../support/services.js'

const ID = 'acme-bs/main'

let fixture: Fixture | undefined
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await fixture?.close()
  fixture = undefined
})

/** The store with its connection reads counted, and a way to wait for the feed's next change of a connection. */
function observed(store: Store) {
  let reads = 0
  const READS = new Set(['getConnection', 'leaseConnection', 'listConnections'])
  const heard: Array<(change: StoreChange) => void> = []
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (typeof property === 'string' && READS.has(property)) reads += 1
        return value.apply(target, args)
      }
    },
  })
  const watching = store.watchChanges((change) => {
    for (const listener of [...heard]) listener(change)
  })
  cleanups.push(async () => (await watching).close())
  return {
    store: proxy,
    takeReads() {
      const taken = reads
      reads = 0
      return taken
    },
    /** Resolves once the feed of this store handle announces a change of `id`. */
    nextChange(id: string): Promise<void> {
      return new Promise((resolve) => {
        const listener = (change: StoreChange) => {
          if (change.connection !== id) return
          heard.splice(heard.indexOf(listener), 1)
          resolve()
        }
        heard.push(listener)
      })
    },
    watching,
  }
}

describe.each(['sqlite', 'postgres', 'redis'] as const)('the token cache on %s', (kind) => {
  /** `first`: this process, its store reads counted; `other`: another process on the same store. */
  async function twoProcesses() {
    fixture = await setup('bookingsync')
    const scratch = kind === 'sqlite' ? undefined : await scratchStore(kind, 'cache')
    if (scratch) cleanups.push(() => scratch.cleanup())
    else if (kind !== 'sqlite') return undefined
    const url = scratch?.url ?? fixture.storeUrl
    const keyring = loadKeyring({ keys: TEST_KEYS })
    const opened = observed(await openStore(url, { keyring }))
    await opened.watching
    const first = await Innkeeper.open({ store: opened.store, keyring, now: fixture.now })
    cleanups.push(async () => {
      await first.close()
      await opened.store.close()
    })
    const other = kind === 'sqlite' ? fixture.keeper : await fixture.reopen({ store: url })
    await first.apps.add('acme-bs', appFor(fixture.emulator, 'bookingsync'))
    const start = await first.authorize('acme-bs', { scopes: ['rentals_read'] })
    await start.complete({ code: (await answerConsent(start.url)).code })
    return { first, other, opened }
  }

  it('answers the first token after its own refresh from memory, once the notice of that save came back', async () => {
    const both = await twoProcesses()
    if (!both) return // PostgreSQL or Redis not running here (CI insists on both)
    const { first, opened } = both
    const conn = first.connection(ID)
    const before = await conn.accessToken()
    const echo = opened.nextChange(ID)
    await conn.refresh()
    await echo
    opened.takeReads()
    const after = await conn.accessToken()
    expect(opened.takeReads()).toBe(0)
    expect(after).not.toBe(before)
    expect(after).toBe((await opened.store.getConnection(ID))?.tokens?.accessToken)
  })

  it('still hands out the token another process refreshed, and sees its disconnect', async () => {
    const both = await twoProcesses()
    if (!both) return
    const { first, other, opened } = both
    const conn = first.connection(ID)
    const echo = opened.nextChange(ID)
    await conn.refresh()
    await echo
    const mine = await conn.accessToken()
    // The next change heard is the other process's.
    const refreshed = opened.nextChange(ID)
    await other.connection(ID).refresh()
    await refreshed
    const theirs = await conn.accessToken()
    expect(theirs).not.toBe(mine)
    expect(theirs).toBe(await other.connection(ID).accessToken())

    const disconnected = opened.nextChange(ID)
    await other.disconnect(ID)
    await disconnected
    await expect(conn.accessToken()).rejects.toMatchObject({ code: 'unknown_connection' })
  })
})
