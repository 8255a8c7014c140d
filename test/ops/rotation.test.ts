// Key rotation while four OS processes keep asking for tokens: `innkeeper keys rotate` adds a key
// to the key file and re-encrypts every secret while `innkeeper token` runs in loops (refreshing
// and rotating BookingSync refresh tokens every second), none of those calls fails, and afterwards
// no record is left under the old key, which `--retire` then removes from the key file.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Innkeeper } from '../../src/index.js'
import { type CliResult, cliEnv, runCli } from '../support/cli.js'
import { appFor } from '../support/keeper.js'
import { connectBs, useOpsWorld } from './world.js'

const world = await useOpsWorld('rotate')

/** Polls `check` every 50 ms until it holds (at most 60 s, however busy the machine). */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function keyFile(dir: string): { current: string; keys: Record<string, string> } {
  return JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8'))
}

describe('innkeeper keys rotate', () => {
  it.each(world.stores())(
    '%s: re-encrypts everything while 4 processes call `innkeeper token` in a loop; none fails, nothing stays under the old key',
    async (_kind, storeUrl) => {
      // 6-second tokens: every call past the first second refreshes (and rotates the refresh token).
      const emulator = await world.startBookingSync(6)
      const home = world.makeHome('innkeeper-rotate-')
      const store = storeUrl(home)
      const keeper = await Innkeeper.open({ home, allowPrivateWebhooks: true, ...(store ? { store } : {}) })
      await keeper.apps.add('bs', appFor(emulator, 'bookingsync'))
      for (const name of ['main', 'second', 'third']) await connectBs(keeper, name)
      const webhook = await keeper.webhooks.add('http://127.0.0.1:9/hooks')
      await keeper.close()
      const oldKey = keyFile(home).current
      const env = cliEnv({ INNKEEPER_HOME: home, ...(store ? { INNKEEPER_STORE: store } : {}) })

      // Four loops of `innkeeper token`. Each call notes when it started and ended, so the test can
      // tell which calls overlapped the rotation without counting how many fit in a time window.
      let stop = false
      const failures: CliResult[] = []
      const calls: Array<{ loop: number; startedAt: number; endedAt: number }> = []
      const loops = ['main', 'second', 'third', 'main'].map(async (name, loop) => {
        while (!stop) {
          const startedAt = Date.now()
          const result = await runCli(['token', `bs/${name}`], env)
          calls.push({ loop, startedAt, endedAt: Date.now() })
          if (result.code !== 0 || !/^\S+\n$/.test(result.stdout)) failures.push(result)
        }
      })
      // Before the rotation: every loop has completed a call and a refresh has rotated a token.
      await until(
        'every loop to complete a call and a refresh to happen',
        () =>
          [0, 1, 2, 3].every((loop) => calls.some((call) => call.loop === loop)) &&
          (emulator.stats().tokenRequests.refresh_token ?? 0) > 0,
      )
      const rotationStartedAt = Date.now()
      const rotation = await runCli(['keys', 'rotate', '--batch', '1'], env)
      const rotationEndedAt = Date.now()
      // After it: every loop completes a call that started once the rotation was over.
      await until('every loop to complete a call after the rotation', () =>
        [0, 1, 2, 3].every((loop) =>
          calls.some((call) => call.loop === loop && call.startedAt >= rotationEndedAt),
        ),
      )
      stop = true
      await Promise.all(loops)

      expect(rotation.stderr).toContain('re-encrypted')
      expect(rotation.code, rotation.stderr).toBe(0)
      expect(failures.map((failure) => failure.stderr)).toEqual([])
      // The loops really ran while the rotation did: every loop had a call in flight during it
      // (the rotation waits 2.5 s for running processes first), and none of those calls failed.
      const during = calls.filter(
        (call) => call.startedAt < rotationEndedAt && call.endedAt > rotationStartedAt,
      )
      expect(new Set(during.map((call) => call.loop)).size).toBe(4)
      expect(emulator.stats().tokenRequests.refresh_token ?? 0).toBeGreaterThan(0)
      expect(emulator.stats().reuseDetected).toBe(0)

      const newKey = keyFile(home).current
      expect(newKey).not.toBe(oldKey)
      const status = JSON.parse((await runCli(['keys', 'status', '--json'], env)).stdout) as {
        keys: Array<{ id: string; records: number }>
      }
      const records = Object.fromEntries(status.keys.map((key) => [key.id, key.records]))
      // One app, three connections and a webhook secret, all under the new key; none under the old one.
      expect(records[newKey]).toBe(5)
      expect(records[oldKey] ?? 0).toBe(0)

      const retire = await runCli(['keys', 'rotate', '--retire'], env)
      expect(retire.code, retire.stderr).toBe(0)
      expect(Object.keys(keyFile(home).keys)).not.toContain(oldKey)
      expect(statSync(join(home, 'keys.json')).mode & 0o777).toBe(0o600)
      const after = await runCli(['token', 'bs/main'], env)
      expect(after.code, after.stderr).toBe(0)
      const reopened = await Innkeeper.open({ home, ...(store ? { store } : {}) })
      const [receiver] = await reopened.webhooks.receivers()
      await reopened.close()
      expect(receiver?.secret).toBe(webhook.secret)
    },
    240_000,
  )

  it('with INNKEEPER_KEYS, re-encrypts under the first key and explains that no key is added', async () => {
    const home = world.makeHome('innkeeper-rotate-env-')
    const k1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`
    const k2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`
    const before = await runCli(
      ['apps', 'add', 'bs', '--provider', 'bookingsync', '--client-id', 'id', '--client-secret-stdin'],
      cliEnv({ INNKEEPER_HOME: home, INNKEEPER_KEYS: k1 }),
      'client-secret-value\n',
    )
    expect(before.code, before.stderr).toBe(0)
    const env = cliEnv({ INNKEEPER_HOME: home, INNKEEPER_KEYS: `${k2},${k1}` })
    const rotation = await runCli(['keys', 'rotate'], env)
    expect(rotation.code, rotation.stderr).toBe(0)
    expect(rotation.stderr).toContain('INNKEEPER_KEYS')
    const status = JSON.parse((await runCli(['keys', 'status', '--json'], env)).stdout)
    expect(status.keys).toEqual(
      expect.arrayContaining([
        { id: 'k2', current: true, loaded: true, records: 1 },
        { id: 'k1', current: false, loaded: true, records: 0 },
      ]),
    )
    // Only the new key is needed now.
    const show = await runCli(
      ['apps', 'list', '--json'],
      cliEnv({ INNKEEPER_HOME: home, INNKEEPER_KEYS: k2 }),
    )
    expect(show.code, show.stderr).toBe(0)
  })
})
