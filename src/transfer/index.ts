// Public entry of the transfer part: export a store to a passphrase-encrypted file and import it
// into another. Re-exports only.
export {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportFile,
  type ExportHeader,
  type ExportPayload,
  openExport,
  readExportHeader,
  sealExport,
} from './file.js'
export {
  type ExportSummary,
  exportStore,
  type ImportSummary,
  importStore,
  type SkipReason,
} from './transfer.js'
