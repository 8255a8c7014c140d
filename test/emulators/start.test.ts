// Starting emulators by name: aliases, `all`, consecutive ports, and the keyed description.
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  describeEmulators,
  formatEmulatorsForPeople,
  resolveEmulatorPlatforms,
  startEmulator,
  startEmulators,
} from '../../src/emulators/index.js'

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

describe('starting emulators', () => {
  it('resolves smily to bookingsync and all to every platform, once each', () => {
    expect(resolveEmulatorPlatforms(['smily', 'bookingsync'])).toEqual(['bookingsync'])
    expect(resolveEmulatorPlatforms(['bookyflow', 'all'])).toEqual([
      'bookyflow',
      'bookingsync',
      'bookingexperts',
      'bookingtime',
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
