// Every command in docs/platforms/*.md runs here, in order, against the platform's emulator, so
// the guides cannot rot (see doc-runner.ts for the few deviations a test must make).
import { describe, expect, it } from 'vitest'
import { type EmulatorHandle, startEmulator } from '../../src/emulators/index.js'
import { type Home, makeHome } from '../support/cli.js'
import { type DocContext, readDoc, runDoc } from './doc-runner.js'

/** Each guide gets its own emulator and home, so the guides run side by side. */
async function withPlatform(platform: string, run: (emulator: EmulatorHandle, home: Home) => Promise<void>) {
  const emulator = await startEmulator(platform)
  const home = makeHome()
  try {
    await run(emulator, home)
  } finally {
    await emulator.close()
    home.close()
  }
}

function endpoints(emulator: EmulatorHandle): string[] {
  const { info } = emulator
  return [
    '--authorize-url',
    info.authorizeUrl!,
    '--token-url',
    info.tokenUrl,
    '--api-url',
    info.apiUrl,
    ...(info.revokeUrl ? ['--revoke-url', info.revokeUrl] : []),
  ]
}

// The five guides run at once, each driving the built CLI through many processes: the
// ceiling is for a run that hangs, not a speed (one took over 90 s on a machine at load 20).
describe.concurrent('the platform guides run as written', { timeout: 300_000 }, () => {
  it('docs/platforms/bookingsync.md', async () =>
    withPlatform('smily', async (emulator, home) => {
      const ctx: DocContext = {
        home,
        vars: { SMILY_CLIENT_ID: emulator.info.clientId, SMILY_CLIENT_SECRET: emulator.info.clientSecret },
        rewrites: { 'https://www.bookingsync.com/api/v3': emulator.info.apiUrl },
        appsAddExtra: endpoints(emulator),
      }
      const results = await runDoc('docs/platforms/bookingsync.md', ctx)
      expect(results.length).toBe(readDoc('docs/platforms/bookingsync.md').length)
      expect(results.map((r) => r.stdout).join('')).toContain(
        'smily/backup is removed: Innkeeper deleted its tokens. BookingSync (Smily) has no revocation endpoint',
      )
    }))

  it('docs/platforms/bookingexperts.md', async () =>
    withPlatform('bookingexperts', async (emulator, home) => {
      const ctx: DocContext = {
        home,
        vars: {
          EXPERTS_CLIENT_ID: emulator.info.clientId,
          EXPERTS_CLIENT_SECRET: emulator.info.clientSecret,
          EXPERTS_API_KEY: emulator.info.apiKey!,
        },
        rewrites: {},
        appsAddExtra: endpoints(emulator),
      }
      const results = await runDoc('docs/platforms/bookingexperts.md', ctx)
      const stdout = results.map((r) => r.stdout).join('')
      expect(stdout).toMatch(/subscriptionId/)
      // The API-key section's request answered with the key's administrations.
      expect(stdout).toContain('Camping De Emulator')
    }))

  it('docs/platforms/bookingtime.md', async () =>
    withPlatform('bookingtime', async (emulator, home) => {
      const ctx: DocContext = {
        home,
        vars: {
          BOOKINGTIME_CLIENT_ID: emulator.info.clientId,
          BOOKINGTIME_CLIENT_SECRET: emulator.info.clientSecret,
          BOOKINGTIME_MODULE_CLIENT_ID: emulator.info.moduleClientId ?? 'module',
          ORGANIZATION_ID: emulator.info.organizationId!,
        },
        rewrites: { 'https://api.bookingtime.com/module/v3': emulator.info.moduleApiUrl! },
        appsAddExtra: [
          '--authorize-url',
          emulator.info.authorizeUrl!,
          '--token-url',
          emulator.info.tokenUrl,
          '--api-url',
          emulator.info.apiUrl,
        ],
      }
      const results = await runDoc('docs/platforms/bookingtime.md', ctx)
      expect(results.map((r) => r.stdout).join('')).toContain('ORGANIZATION')
    }))

  it('docs/platforms/bookyflow.md', async () =>
    withPlatform('bookyflow', async (emulator, home) => {
      const ctx: DocContext = {
        home,
        vars: {
          BOOKYFLOW_CLIENT_ID: emulator.info.clientId,
          BOOKYFLOW_CLIENT_SECRET: emulator.info.clientSecret,
        },
        rewrites: { 'https://bookyflow.example.com': emulator.info.baseUrl! },
        appsAddExtra: [],
      }
      const results = await runDoc('docs/platforms/bookyflow.md', ctx)
      expect(results.map((r) => r.stdout).join('')).toContain('Sea view apartment')
    }))

  it('docs/platforms/oauth2.md (against the BookingSync emulator as a standard OAuth 2.0 server)', async () =>
    withPlatform('smily', async (emulator, home) => {
      const ctx: DocContext = {
        home,
        vars: { OAUTH2_CLIENT_ID: emulator.info.clientId, OAUTH2_CLIENT_SECRET: emulator.info.clientSecret },
        rewrites: {
          'https://auth.example.com/oauth/authorize': emulator.info.authorizeUrl!,
          'https://auth.example.com/oauth/token': emulator.info.tokenUrl,
          'https://api.example.com/v1': emulator.info.apiUrl,
        },
        appsAddExtra: [],
      }
      const results = await runDoc('docs/platforms/oauth2.md', ctx)
      expect(results.at(-1)?.stdout).toMatch(/^\S+\n$/)
    }))
})
