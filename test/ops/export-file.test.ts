// The export file's header is read before any key is derived: a file edited to ask for huge
// scrypt parameters is refused at once instead of exhausting the importer's CPU and memory.
import { describe, expect, it } from 'vitest'
import { type ExportFile, openExport, sealExport } from '../../src/transfer/file.js'

const PASSPHRASE = 'a long export passphrase'

async function sealed(): Promise<ExportFile> {
  return JSON.parse(await sealExport({ apps: [], connections: [] }, PASSPHRASE, Date.now()))
}

describe('export file key derivation', () => {
  it('opens what the exporter writes', async () => {
    const file = await sealed()
    expect(file.kdf).toMatchObject({ name: 'scrypt', N: 32_768, r: 8, p: 1 })
    const opened = await openExport(JSON.stringify(file), PASSPHRASE)
    expect(opened.payload).toEqual({ apps: [], connections: [] })
  })

  it.each([
    ['N=2^20, r=32, p=16', { N: 2 ** 20, r: 32, p: 16 }],
    ['N=2^20', { N: 2 ** 20 }],
    ['r=32', { r: 32 }],
    ['p=16', { p: 16 }],
    ['N not a power of two', { N: 40_000 }],
    ['N as text', { N: '32768' }],
    ['a 4 MiB salt', { salt: Buffer.alloc(4 * 1024 * 1024).toString('base64') }],
  ])('refuses a header edited to %s before deriving a key', async (_name, change) => {
    const file = await sealed()
    file.kdf = { ...file.kdf, ...(change as Partial<ExportFile['kdf']>) }
    await expect(openExport(JSON.stringify(file), PASSPHRASE)).rejects.toMatchObject({
      code: 'invalid_config',
      message: expect.stringContaining('parameters Innkeeper never writes'),
    })
  })
})
