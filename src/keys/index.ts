// Public entry of key management: rotation, retirement and status. Re-exports only.
export {
  KEY_ROTATION_COLLECTION,
  type RetireReport,
  type RotateKeysOptions,
  type RotationProgress,
  type RotationReport,
  type RotationState,
  readRotationState,
  retireOldKeys,
  rotateKeys,
} from './rotation.js'
export { type KeyStatus, keyStatus } from './status.js'
