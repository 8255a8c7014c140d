// The audit trail's batches: entries are written after the operation that caused them has
// answered (a refresh, a token handed out), together with the entries around them, and every one
// of them reaches the store: by `keeper.close()`, or before the trail is read through the keeper.
import { afterEach, describe, expect, it } from 'vitest'
import { type Fixture, setupConnected } from '../support/keeper.js'

let f: Fixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

describe('audit batches', () => {
  it('a refresh is in the trail once the keeper is closed', async () => {
    f = await setupConnected()
    await f.keeper.connection('app/main').refresh()
    await f.keeper.close()
    const reopened = await f.reopen()
    const actions = (await reopened.store.listAudit({ connection: 'app/main' })).map((entry) => entry.action)
    expect(actions).toContain('token.refreshed')
  })

  it('every token handed out is recorded, however many go into one batch', async () => {
    f = await setupConnected()
    const conn = f.keeper.connection('app/main')
    const handedOut = 1_234
    await Promise.all(Array.from({ length: handedOut }, () => conn.token()))
    await f.keeper.close()
    const reopened = await f.reopen()
    const issued = (await reopened.store.listAudit({ connection: 'app/main', limit: 5_000 })).filter(
      (entry) => entry.action === 'token.issued',
    )
    expect(issued).toHaveLength(handedOut)
    expect(new Set(issued.map((entry) => entry.id)).size).toBe(handedOut)
  })

  it('the trail read through the keeper already holds what was just recorded', async () => {
    f = await setupConnected()
    await f.keeper.connection('app/main').refresh()
    const actions = (await f.keeper.audit.list({ connection: 'app/main' })).map((entry) => entry.action)
    expect(actions).toContain('token.refreshed')
    expect(actions).toContain('connection.connected')
  })
})
