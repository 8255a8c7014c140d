// Runs the memory store through the shared store conformance suite (no encryption at rest to
// check: the memory store writes nothing anywhere), and opens it from its URL.
import { describe, expect, it } from 'vitest'
import { createKeyring } from '../../src/crypto/keyring.js'
import { openMemoryStore } from '../../src/stores/memory/store.js'
import { openStore, parseStoreUrl } from '../../src/stores/open.js'
import { runStoreConformance } from './conformance.js'

runStoreConformance('memory', async () => ({ store: openMemoryStore() }))

describe('memory store URL', () => {
  it('memory: opens a fresh, empty memory store each time', async () => {
    expect(parseStoreUrl('memory:')).toEqual({ kind: 'memory' })
    const keyring = createKeyring([{ id: 'k1', key: Buffer.alloc(32, 7) }])
    const first = await openStore('memory:', { keyring })
    const second = await openStore('memory:', { keyring })
    expect(first.kind).toBe('memory')
    await first.putDocument('c', 'a', { v: 1 })
    expect(await second.getDocument('c', 'a')).toBeNull()
  })

  it('a closed memory store refuses work with store_unavailable', async () => {
    const store = openMemoryStore()
    await store.close()
    await expect(store.listApps()).rejects.toMatchObject({ code: 'store_unavailable' })
  })
})
