// The audit trail end to end: a connect from the library, tokens and a refresh from the CLI, a
// token handed out by the service API under its API key, a worker refresh, a key rotation and a
// disconnect all appear in `innkeeper audit --json` with who did them, and no token or secret
// appears anywhere in that output (searched for the actual values). Also the /audit page,
// filters, and pruning past the retention.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { Innkeeper } from '../../src/index.js'
import { createServer } from '../../src/server/server.js'
import type { AuditEntry } from '../../src/stores/store.js'
import { cliEnv, runCli } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'
import { appFor } from '../support/keeper.js'

let emulator: EmulatorHandle | undefined
let home: string | undefined
afterEach(async () => {
  await emulator?.close()
  if (home) rmSync(home, { recursive: true, force: true })
  emulator = undefined
  home = undefined
})

describe('the audit trail', () => {
  it('innkeeper audit --json lists who connected, took tokens, refreshed, rotated keys and disconnected, with no secret in it', async () => {
    emulator = await startEmulator('bookingsync')
    home = mkdtempSync(join(tmpdir(), 'innkeeper-audit-'))
    const env = cliEnv({ INNKEEPER_HOME: home })
    const secrets = new Set<string>([emulator.info.clientSecret])
    const remember = async (keeper: Innkeeper) => {
      for (const connection of await keeper.store.listConnections()) {
        for (const value of [
          connection.tokens?.accessToken,
          connection.tokens?.refreshToken,
          connection.previousRefreshToken,
        ]) {
          if (value) secrets.add(value)
        }
      }
    }

    // Connect from the library (actor `library`).
    const keeper = await Innkeeper.open({ home })
    await keeper.apps.add('bs', appFor(emulator, 'bookingsync'))
    const start = await keeper.authorize('bs', { scopes: ['rentals_read'] })
    await start.complete({ code: (await answerConsent(start.url)).code })
    await remember(keeper)

    // A token and a forced refresh from the CLI (actor `cli:<user>`).
    const token = await runCli(['token', 'bs/main'], env)
    expect(token.code, token.stderr).toBe(0)
    secrets.add(token.stdout.trim())
    expect((await runCli(['refresh', 'bs/main'], env)).code).toBe(0)
    await remember(keeper)

    // A token from the service API (actor `api-key:<id>`).
    const server = await createServer({ keeper, apiKeys: ['ops-test-api-key-0123456789'], logger: false })
    const served = await server.inject({
      method: 'POST',
      url: '/api/connections/bs/main/token',
      headers: { authorization: 'Bearer ops-test-api-key-0123456789' },
    })
    expect(served.statusCode, served.body).toBe(200)
    secrets.add(served.json().accessToken)

    // A refresh by the background refresher (actor `worker:<owner>`), once the token is due.
    const later = await Innkeeper.open({ home, now: () => Date.now() + 3 * 3600_000 })
    emulator.advance(3 * 3600)
    const refresher = later.startRefresher({ idleMs: 50 })
    await refresher.runOnce()
    await refresher.stop()
    await remember(later)
    await later.close()

    // A key rotation and a disconnect from the CLI.
    expect((await runCli(['keys', 'rotate'], env)).code).toBe(0)
    await remember(keeper)
    expect((await runCli(['disconnect', 'bs/main'], env)).code).toBe(0)

    const listed = await runCli(['audit', '--json'], env)
    expect(listed.code, listed.stderr).toBe(0)
    for (const secret of secrets) {
      expect(listed.stdout.includes(secret), 'a token or secret is in the audit output').toBe(false)
    }
    const entries = (JSON.parse(listed.stdout) as AuditEntry[]).reverse()
    const summary = entries.map((entry) => `${entry.action} ${entry.actor.split(':')[0]} ${entry.outcome}`)
    expect(summary).toEqual([
      'connection.connected library ok',
      'token.issued cli ok',
      'token.refreshed cli ok',
      'token.issued api-key ok',
      'keys.rotated cli ok',
      'connection.disconnected cli ok',
      // The worker ran on a clock three hours ahead (to find the token due): its entry is dated then.
      'token.refreshed worker ok',
    ])
    expect(
      entries.filter((entry) => entry.action !== 'keys.rotated').every((e) => e.connection === 'bs/main'),
    ).toBe(true)
    expect(entries.find((entry) => entry.action === 'token.issued')?.actor).toMatch(/^cli:\S+$/)
    expect(entries.find((entry) => entry.actor.startsWith('api-key:'))?.actor).toBe('api-key:env-1')

    // Filters, the web page, and pruning.
    const onlyRecent = JSON.parse(
      (await runCli(['audit', '--json', '--since', '1h', '--connection', 'bs/main'], env)).stdout,
    )
    expect(onlyRecent).toHaveLength(6)
    const page = await (await createServer({ keeper, dashboardAuth: 'none', logger: false })).inject(
      '/audit?connection=bs%2Fmain',
    )
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('token.issued')
    expect(page.body).toContain('api-key:env-1')
    for (const secret of secrets) expect(page.body.includes(secret)).toBe(false)
    // A retention of under a second, a second later: everything before now goes.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const pruned = await runCli(
      ['audit', 'prune'],
      cliEnv({ INNKEEPER_HOME: home, INNKEEPER_AUDIT_RETENTION_DAYS: '0.00001' }),
    )
    // All but the worker's entry, which is dated three hours ahead.
    expect(pruned.stdout).toMatch(/Removed 6 audit entries/)
    await server.close()
    await keeper.close()
  }, 60_000)

  it('--since understands durations and dates, and refuses anything else', async () => {
    home = mkdtempSync(join(tmpdir(), 'innkeeper-audit-'))
    const env = cliEnv({ INNKEEPER_HOME: home })
    expect((await runCli(['audit', '--since', '2026-01-01'], env)).code).toBe(0)
    const bad = await runCli(['audit', '--since', 'yesterday'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('24h')
  })
})
