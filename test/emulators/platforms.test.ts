// The list of emulated platforms: each one a built-in provider with a guide, and the reverse;
// starting emulators by name (aliases, `all`, consecutive ports) and the keyed description.
import { readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  describeEmulators,
  EMULATED_PLATFORMS,
  EMULATOR_PLATFORMS,
  formatEmulatorsForPeople,
  resolveEmulatorPlatforms,
  startEmulator,
  startEmulators,
} from '../../src/emulators/index.js'
import { builtInProviders } from '../../src/providers/platforms.js'

const GUIDES = join(import.meta.dirname, '..', '..', 'docs', 'platforms')
/** Built-in providers that are not one platform, so nothing to emulate: every URL is the app's own. */
const NOT_A_PLATFORM = new Set(['oauth2'])

/** A port with the next four free too, found by asking the OS and checking the neighbours. */
async function freePortRun(length: number): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(null))
      server.listen(port, '127.0.0.1', () => {
        const address = server.address()
        server.close(() => resolve(typeof address === 'object' && address ? address.port : null))
      })
    })
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listen(0)
    if (first === null || first + length > 65535) continue
    let free = true
    for (let i = 1; i < length && free; i++) free = (await listen(first + i)) !== null
    if (free) return first
  }
  throw new Error('no run of free ports')
}

describe('the list of platforms', () => {
  it('has an emulator for every built-in provider that is a platform, and a provider for every emulator', () => {
    const emulated = EMULATED_PLATFORMS.map((platform) => platform.name).sort()
    const platforms = builtInProviders
      .map((definition) => definition.name)
      .filter((name) => !NOT_A_PLATFORM.has(name))
      .sort()
    expect(emulated).toEqual(platforms)
  })

  it('gives each emulator its provider’s display name and aliases', () => {
    for (const platform of EMULATED_PLATFORMS) {
      const definition = builtInProviders.find((candidate) => candidate.name === platform.name)
      expect({ label: platform.label, aliases: platform.aliases }).toEqual({
        label: definition?.displayName,
        aliases: definition?.aliases,
      })
    }
  })

  it('has a guide in docs/platforms/ for every built-in provider, and a provider for every guide', () => {
    const guides = readdirSync(GUIDES)
      .filter((file) => file.endsWith('.md') && file !== 'README.md')
      .map((file) => file.slice(0, -'.md'.length))
      .sort()
    expect(guides).toEqual(builtInProviders.map((definition) => definition.name).sort())
  })
})

describe('starting emulators', () => {
  it('resolves smily to bookingsync and all to every platform, once each', () => {
    expect(resolveEmulatorPlatforms(['smily', 'bookingsync'])).toEqual(['bookingsync'])
    expect(resolveEmulatorPlatforms(['bookyflow', 'all'])).toEqual([
      'bookyflow',
      ...EMULATOR_PLATFORMS.filter((name) => name !== 'bookyflow'),
    ])
    expect(() => resolveEmulatorPlatforms(['airbnb'])).toThrow(/Choose from: bookingsync, bookingexperts/)
  })

  it('gives several platforms consecutive ports from --port, two for Booking Experts', async () => {
    const port = await freePortRun(4)
    const handles = await startEmulators(['bookingexperts', 'bookyflow'], { port })
    try {
      const [experts, bookyflow] = handles
      expect(new URL(experts!.info.appUrl!).port).toBe(String(port))
      expect(new URL(experts!.info.apiUrl).port).toBe(String(port + 1))
      expect(bookyflow!.info.baseUrl).toBe(`http://127.0.0.1:${port + 2}`)
    } finally {
      await Promise.all(handles.map((handle) => handle.close()))
    }
  })

  it('describes running emulators keyed by platform, for programs and for people', async () => {
    const handle = await startEmulator('smily', { clientId: 'my-app', clientSecret: 'my-secret' })
    try {
      const description = describeEmulators([handle])
      expect(description).toEqual({ bookingsync: handle.info })
      expect(description.bookingsync).toMatchObject({ clientId: 'my-app', clientSecret: 'my-secret' })
      const text = formatEmulatorsForPeople([handle])
      expect(text).toContain('BookingSync (Smily) emulator')
      expect(text).toContain(handle.info.tokenUrl)
    } finally {
      await handle.close()
    }
  })
})
