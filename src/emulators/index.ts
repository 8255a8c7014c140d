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
export { describeEmulators, type EmulatorDescription, formatEmulatorsForPeople } from './describe.js'
export {
  PORTS_PER_PLATFORM,
  resolveEmulatorPlatforms,
  startEmulator,
  startEmulators,
} from './start.js'
export type { EmulatorStatsSnapshot } from './stats.js'
export { decodeJwtPayload, tokenFingerprint } from './tokens.js'
export {
  type ApprovalRequest,
  type ApprovalResult,
  EMULATOR_PLATFORMS,
  type EmulatorHandle,
  type EmulatorInfo,
  type EmulatorOptions,
  type EmulatorPlatform,
} from './types.js'
