// Public entry of the crypto part: the keyring that encrypts secrets at rest, and where it is loaded from.
export {
  createKeyring,
  decodeKey,
  GENERATE_KEY_HINT,
  generateKey,
  generateKeyId,
  KEY_BYTES,
  type KeyEntry,
  Keyring,
  type KeySource,
  SEALED_VERSION,
} from './keyring.js'
export {
  addCurrentKeyToFile,
  type KeyFileContents,
  type LoadKeyringOptions,
  loadKeyring,
  parseKeysVariable,
  readKeyFile,
  readKeyFileEntries,
  removeKeysFromFile,
  writeKeyFile,
} from './load.js'
