// The keyring: sealed secrets open only with the right key and the right row and field, older keys
// still decrypt after a new one becomes current, and keys load from INNKEEPER_KEYS or a private key
// file that is created 0600 on first use and refused when others can read it.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createKeyring, generateKey, generateKeyId, type Keyring } from '../../src/crypto/keyring.js'
import { loadKeyring } from '../../src/crypto/load.js'
import { CryptoError } from '../../src/errors.js'

const AAD = 'connection:acme/main:secrets'
const SECRET = 'refresh-token-0123456789abcdef'

function keyringWith(...ids: string[]): Keyring {
  return createKeyring(ids.map((id) => ({ id, key: Buffer.from(generateKey(), 'base64') })))
}

function caught(step: () => unknown): CryptoError {
  try {
    step()
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError)
    return error as CryptoError
  }
  throw new Error('expected a CryptoError')
}

describe('sealing secrets', () => {
  it('a sealed secret opens with the same key and associated data', () => {
    const keyring = keyringWith('k1')
    const sealed = keyring.encrypt(SECRET, AAD)
    expect(keyring.decrypt(sealed, AAD)).toBe(SECRET)
  })

  it('the sealed form is versioned, names its key and does not contain the secret', () => {
    const keyring = keyringWith('k1')
    const sealed = keyring.encrypt(SECRET, AAD)
    expect(sealed).toMatch(/^ik1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
    expect(sealed).not.toContain(SECRET)
    expect(keyring.keyIdOf(sealed)).toBe('k1')
  })

  it('sealing the same secret twice gives different ciphertexts (a fresh IV each time)', () => {
    const keyring = keyringWith('k1')
    expect(keyring.encrypt(SECRET, AAD)).not.toBe(keyring.encrypt(SECRET, AAD))
  })

  it('an empty secret round-trips', () => {
    const keyring = keyringWith('k1')
    expect(keyring.decrypt(keyring.encrypt('', 'app:module:client_secret'), 'app:module:client_secret')).toBe(
      '',
    )
  })

  it('a wrong key with the same id fails with decryption_failed, and the message holds no secret', () => {
    const sealed = keyringWith('k1').encrypt(SECRET, AAD)
    const error = caught(() => keyringWith('k1').decrypt(sealed, AAD))
    expect(error.code).toBe('decryption_failed')
    expect(error.message).toContain(AAD)
    expect(error.message).not.toContain(SECRET)
    expect(JSON.stringify(error.toJSON())).not.toContain(SECRET)
  })

  it('a ciphertext moved to another row or field fails with decryption_failed', () => {
    const keyring = keyringWith('k1')
    const sealed = keyring.encrypt(SECRET, AAD)
    expect(caught(() => keyring.decrypt(sealed, 'connection:acme/other:secrets')).code).toBe(
      'decryption_failed',
    )
    expect(caught(() => keyring.decrypt(sealed, 'app:acme:client_secret')).code).toBe('decryption_failed')
  })

  it('tampered ciphertext, tag or IV fails with decryption_failed', () => {
    const keyring = keyringWith('k1')
    const sealed = keyring.encrypt(SECRET, AAD)
    const parts = sealed.split('.')
    for (const index of [2, 3, 4]) {
      const tampered = [...parts]
      const bytes = Buffer.from(tampered[index]!, 'base64url')
      bytes[0] = bytes[0]! ^ 0x01
      tampered[index] = bytes.toString('base64url')
      expect(caught(() => keyring.decrypt(tampered.join('.'), AAD)).code).toBe('decryption_failed')
    }
  })

  it('a string that is not a sealed secret fails with decryption_failed', () => {
    const keyring = keyringWith('k1')
    for (const junk of ['', 'plaintext', 'ik1.k1.a.b', 'ik2.k1.AAAA.AAAA.AAAA', 'ik1.k1.AAAA.AAAA.AAAA']) {
      expect(caught(() => keyring.decrypt(junk, AAD)).code).toBe('decryption_failed')
    }
  })

  it('relabelling a ciphertext with another loaded key id fails', () => {
    const keyring = keyringWith('k1', 'k2')
    const sealed = keyring.encrypt(SECRET, AAD)
    const relabelled = sealed.replace(/^ik1\.k1\./, 'ik1.k2.')
    expect(caught(() => keyring.decrypt(relabelled, AAD)).code).toBe('decryption_failed')
  })

  it('a secret sealed with a key that is not loaded fails with key_unavailable naming the key id', () => {
    const sealed = keyringWith('old').encrypt(SECRET, AAD)
    const error = caught(() => keyringWith('new').decrypt(sealed, AAD))
    expect(error.code).toBe('key_unavailable')
    expect(error.message).toContain("'old'")
  })

  it('after rotation the first key seals new secrets and older keys still open old ones', () => {
    const oldKey = Buffer.from(generateKey(), 'base64')
    const newKey = Buffer.from(generateKey(), 'base64')
    const before = createKeyring([{ id: 'k1', key: oldKey }])
    const sealedBefore = before.encrypt(SECRET, AAD)

    const after = createKeyring([
      { id: 'k2', key: newKey },
      { id: 'k1', key: oldKey },
    ])
    expect(after.currentKeyId).toBe('k2')
    expect(after.keyIds()).toEqual(['k2', 'k1'])
    expect(after.decrypt(sealedBefore, AAD)).toBe(SECRET)
    expect(after.keyIdOf(after.encrypt(SECRET, AAD))).toBe('k2')
  })

  it('refuses keys that are not 32 bytes, duplicate ids and bad ids', () => {
    expect(caught(() => createKeyring([{ id: 'k1', key: Buffer.alloc(16) }])).code).toBe('key_unavailable')
    const key = Buffer.alloc(32, 1)
    expect(
      caught(() =>
        createKeyring([
          { id: 'k1', key },
          { id: 'k1', key },
        ]),
      ).code,
    ).toBe('key_unavailable')
    expect(caught(() => createKeyring([{ id: 'has.dot', key }])).code).toBe('key_unavailable')
    expect(caught(() => createKeyring([])).code).toBe('key_unavailable')
  })

  it('generates 32-byte keys and valid key ids', () => {
    expect(Buffer.from(generateKey(), 'base64')).toHaveLength(32)
    expect(generateKeyId(new Date('2025-06-01T00:00:00Z'))).toMatch(/^k20250601-[0-9a-f]{6}$/)
  })
})

describe('loading keys from INNKEEPER_KEYS', () => {
  it('takes comma-separated kid:base64 pairs, the first one current', () => {
    const k1 = generateKey()
    const k2 = Buffer.from(generateKey(), 'base64').toString('base64url')
    const keyring = loadKeyring({ keys: ` new:${k1} , old:${k2} ` })
    expect(keyring.currentKeyId).toBe('new')
    expect(keyring.keyIds()).toEqual(['new', 'old'])

    const onlyOld = loadKeyring({ keys: `old:${k2}` })
    expect(keyring.decrypt(onlyOld.encrypt(SECRET, AAD), AAD)).toBe(SECRET)
  })

  it('refuses a malformed value without echoing the key material', () => {
    const key = generateKey()
    const error = caught(() => loadKeyring({ keys: key }))
    expect(error.code).toBe('key_unavailable')
    expect(error.message).not.toContain(key)
    expect(caught(() => loadKeyring({ keys: 'k1:c2hvcnQ=' })).code).toBe('key_unavailable')
  })

  it('asks for a key when neither INNKEEPER_KEYS nor a key file is given', () => {
    const error = caught(() => loadKeyring({}))
    expect(error.code).toBe('key_unavailable')
    expect(error.message).toContain('INNKEEPER_KEYS')
  })
})

describe('loading keys from a key file', () => {
  let directory: string

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'innkeeper-keys-'))
  })

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true })
  })

  it.skipIf(process.platform === 'win32')(
    'creates the key file on first use, mode 0600 in a 0700 directory',
    () => {
      const keyFile = join(directory, 'nested', 'keys.json')
      const keyring = loadKeyring({ keyFile })
      expect(statSync(keyFile).mode & 0o777).toBe(0o600)
      expect(statSync(join(directory, 'nested')).mode & 0o777).toBe(0o700)
      const contents = JSON.parse(readFileSync(keyFile, 'utf8'))
      expect(contents.current).toBe(keyring.currentKeyId)
      expect(Buffer.from(contents.keys[keyring.currentKeyId], 'base64')).toHaveLength(32)
    },
  )

  it('uses the same key on the next load, so secrets survive a restart', () => {
    const keyFile = join(directory, 'keys.json')
    const sealed = loadKeyring({ keyFile }).encrypt(SECRET, AAD)
    expect(loadKeyring({ keyFile }).decrypt(sealed, AAD)).toBe(SECRET)
  })

  it('a different key file cannot open the secrets: decryption_failed or key_unavailable', () => {
    const sealed = loadKeyring({ keyFile: join(directory, 'a.json') }).encrypt(SECRET, AAD)
    const other = loadKeyring({ keyFile: join(directory, 'b.json') })
    const error = caught(() => other.decrypt(sealed, AAD))
    expect(['decryption_failed', 'key_unavailable']).toContain(error.code)
  })

  it('a key file with the same key id but another key fails with decryption_failed', () => {
    const keyFile = join(directory, 'keys.json')
    const sealed = loadKeyring({ keyFile }).encrypt(SECRET, AAD)
    const contents = JSON.parse(readFileSync(keyFile, 'utf8'))
    contents.keys[contents.current] = generateKey()
    writeFileSync(keyFile, JSON.stringify(contents), { mode: 0o600 })
    expect(caught(() => loadKeyring({ keyFile }).decrypt(sealed, AAD)).code).toBe('decryption_failed')
  })

  it('decrypts with a non-current key listed in the key file', () => {
    const keyFile = join(directory, 'keys.json')
    const oldKey = generateKey()
    const sealed = createKeyring([{ id: 'old', key: Buffer.from(oldKey, 'base64') }]).encrypt(SECRET, AAD)
    writeFileSync(
      keyFile,
      JSON.stringify({ version: 1, current: 'new', keys: { new: generateKey(), old: oldKey } }),
      {
        mode: 0o600,
      },
    )
    const keyring = loadKeyring({ keyFile })
    expect(keyring.currentKeyId).toBe('new')
    expect(keyring.decrypt(sealed, AAD)).toBe(SECRET)
  })

  it.skipIf(process.platform === 'win32')(
    'refuses a key file other users can read, and says the chmod command that fixes it',
    () => {
      const keyFile = join(directory, 'keys.json')
      loadKeyring({ keyFile })
      chmodSync(keyFile, 0o644)
      const error = caught(() => loadKeyring({ keyFile }))
      expect(error.code).toBe('key_unavailable')
      expect(error.message).toContain(`chmod 600 ${keyFile}`)
    },
  )

  it('refuses a key file that is not valid JSON without quoting it', () => {
    const keyFile = join(directory, 'keys.json')
    writeFileSync(keyFile, 'not json but maybe a secret', { mode: 0o600 })
    const error = caught(() => loadKeyring({ keyFile }))
    expect(error.code).toBe('key_unavailable')
    expect(error.message).not.toContain('maybe a secret')
    expect(error.cause).toBeUndefined()
  })

  it('INNKEEPER_KEYS wins over the key file', () => {
    const keyFile = join(directory, 'keys.json')
    const keyring = loadKeyring({ keys: `env:${generateKey()}`, keyFile })
    expect(keyring.currentKeyId).toBe('env')
    expect(() => statSync(keyFile)).toThrow()
  })
})
