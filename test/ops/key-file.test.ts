// A process that loaded its keys from a key file follows a rotation done by another process: a
// secret sealed with a key it has not seen makes it re-read the file at once, and within about a
// second it encrypts with the new current key itself. A retired key stops opening anything.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addCurrentKeyToFile, loadKeyring, removeKeysFromFile } from '../../src/crypto/index.js'

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('a keyring loaded from a key file', () => {
  it('opens a secret sealed with a key added after it started, and soon encrypts with it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'innkeeper-keyfile-'))
    const keyFile = join(dir, 'keys.json')
    const running = loadKeyring({ keyFile })
    const oldKey = running.currentKeyId

    const newKey = addCurrentKeyToFile(keyFile)
    const rotator = loadKeyring({ keyFile })
    expect(rotator.currentKeyId).toBe(newKey)
    const sealed = rotator.encrypt('refresh-token-value', 'connection:a/main:secrets')

    expect(running.decrypt(sealed, 'connection:a/main:secrets')).toBe('refresh-token-value')
    expect(running.keyIds()).toEqual([newKey, oldKey])
    expect(running.currentKeyId).toBe(newKey)

    removeKeysFromFile(keyFile, [oldKey])
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    // The next encryption looks at the file again and drops the retired key.
    expect(running.keyIdOf(running.encrypt('x', 'y'))).toBe(newKey)
    expect(running.keyIds()).toEqual([newKey])
  })

  it('keys from INNKEEPER_KEYS follow nothing: an unknown key id stays key_unavailable', () => {
    const keyring = loadKeyring({ keys: `k1:${Buffer.alloc(32, 1).toString('base64')}` })
    const other = loadKeyring({ keys: `k2:${Buffer.alloc(32, 2).toString('base64')}` })
    expect(() => keyring.decrypt(other.encrypt('x', 'a'), 'a')).toThrow(
      expect.objectContaining({ code: 'key_unavailable' }),
    )
  })
})
