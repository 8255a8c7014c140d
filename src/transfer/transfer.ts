// Moving apps and connections between stores without a new authorization: `exportStore` reads
// every app and connection (decrypted with the source store's keys) into a passphrase-encrypted
// file; `importStore` writes them into any store, which seals them again with its own keys. An
// import never replaces newer data unless forced: an app updated later, or a connection
// refreshed or changed later in the target, is skipped and reported.

import { existsSync, readFileSync } from 'node:fs'
import { InnkeeperError, isInnkeeperError } from '../errors.js'
import { writePrivateFile } from '../private-file.js'
import type { ConnectionRecord, Store } from '../stores/store.js'
import { type ExportHeader, openExport, sealExport } from './file.js'

export interface ExportSummary {
  path: string
  apps: number
  connections: number
}

export async function exportStore(
  store: Store,
  options: { path: string; passphrase: string; overwrite?: boolean; now?: number },
): Promise<ExportSummary> {
  if (existsSync(options.path) && !options.overwrite) {
    throw new InnkeeperError(
      'invalid_config',
      `${options.path} already exists; choose another file or pass --force.`,
    )
  }
  const apps = await store.listApps()
  const connections = await store.listConnections()
  const text = await sealExport({ apps, connections }, options.passphrase, options.now ?? Date.now())
  writeExportFile(options.path, text)
  return { path: options.path, apps: apps.length, connections: connections.length }
}

export type SkipReason = 'newer_in_target' | 'unchanged' | 'changed_during_import' | 'unknown_app'

export interface ImportSummary {
  header: ExportHeader
  apps: { imported: string[]; skipped: Array<{ name: string; reason: SkipReason }> }
  connections: { imported: string[]; skipped: Array<{ id: string; reason: SkipReason }> }
}

export async function importStore(
  store: Store,
  options: { path: string; passphrase: string; force?: boolean },
): Promise<ImportSummary> {
  let text: string
  try {
    text = readFileSync(options.path, 'utf8')
  } catch (error) {
    throw new InnkeeperError(
      'invalid_config',
      `Could not read ${options.path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path.`,
    )
  }
  const { header, payload } = await openExport(text, options.passphrase)
  const summary: ImportSummary = {
    header,
    apps: { imported: [], skipped: [] },
    connections: { imported: [], skipped: [] },
  }
  for (const app of payload.apps) {
    const existing = await store.getApp(app.name)
    if (existing && !options.force) {
      if (existing.updatedAt > app.updatedAt) {
        summary.apps.skipped.push({ name: app.name, reason: 'newer_in_target' })
        continue
      }
    }
    await store.putApp(app)
    summary.apps.imported.push(app.name)
  }
  for (const connection of payload.connections) {
    const existing = await store.getConnection(connection.id)
    if (existing && !options.force) {
      const theirs = freshness(existing)
      const ours = freshness(connection)
      if (theirs > ours) {
        summary.connections.skipped.push({ id: connection.id, reason: 'newer_in_target' })
        continue
      }
      if (theirs === ours) {
        summary.connections.skipped.push({ id: connection.id, reason: 'unchanged' })
        continue
      }
    }
    try {
      // Compare-and-swap on what was just read: a refresh in the target meanwhile wins.
      await store.saveConnection(connection, existing?.version ?? 0)
      summary.connections.imported.push(connection.id)
    } catch (error) {
      if (!isInnkeeperError(error)) throw error
      if (error.code === 'conflict')
        summary.connections.skipped.push({ id: connection.id, reason: 'changed_during_import' })
      else if (error.code === 'unknown_app')
        summary.connections.skipped.push({ id: connection.id, reason: 'unknown_app' })
      else throw error
    }
  }
  return summary
}

/** When a connection last changed: its last refresh or update, whichever is later. */
function freshness(record: ConnectionRecord): number {
  return Math.max(record.updatedAt, record.lastRefreshAt ?? 0)
}

/** Writes `text` to `path` with mode 0600 from the first byte (a temp file renamed into place). */
function writeExportFile(path: string, text: string): void {
  try {
    writePrivateFile(path, text)
  } catch (error) {
    throw new InnkeeperError(
      'invalid_config',
      `Could not write ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the directory exists and is writable.`,
    )
  }
}
