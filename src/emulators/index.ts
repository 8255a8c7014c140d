// Local emulators of every platform Innkeeper supports, over real HTTP on loopback
// (`import { startEmulator } from 'innkeeper/emulators'`). Re-exports only.
export { appSettingsFor, type EmulatedAppSettings } from './app-settings.js'
export { startBookingExpertsEmulator } from './bookingexperts.js'
export { BOOKINGSYNC_SCOPES, startBookingSyncEmulator } from './bookingsync.js'
export { startBookingtimeEmulator } from './bookingtime.js'
export { BOOKYFLOW_SCOPES, isBookyFlowDate, startBookyFlowEmulator } from './bookyflow.js'
export type { ClientRegistration } from './clients.js'
export { OOB_REDIRECT_URI } from './clients.js'
export type { EmulatorConfig, EmulatorConfigPatch } from './config.js'
export { ADMIN_PREFIX } from './control.js'
export type {
  ApprovalRequest,
  ApprovalResult,
  EmulatedPlatform,
  EmulatorDemo,
  EmulatorHandle,
  EmulatorInfo,
  EmulatorOptions,
} from './platform.js'
export {
  describeEmulators,
  EMULATED_PLATFORMS,
  EMULATOR_PLATFORMS,
  type EmulatorDescription,
  type EmulatorPlatform,
  emulatorNames,
  findEmulatedPlatform,
  formatEmulatorsForPeople,
  platformOf,
  resolveEmulatorPlatforms,
  startEmulator,
  startEmulators,
} from './platforms.js'
export type { EmulatorStatsSnapshot } from './stats.js'
export { decodeJwtPayload, tokenFingerprint } from './tokens.js'
