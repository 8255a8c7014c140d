// Key rotation while the service and workers keep running: a new key becomes current, then every
// stored secret is re-sealed under it in batches (each a compare-and-swap, so a concurrent refresh
// is never overwritten), passes repeat until no record is left under another key, and old keys
// leave the key file only once nothing needs them. Progress lives in the store (document
// `key_rotation/current`), so an interrupted rotation continues where it stopped.
//
// The safe order, with a key file: (1) the new key is added to the file and made current; every
// process that loaded its keys from that file follows it (checked at most once a second before
// encrypting, and at once when a secret names a key it lacks), so (2) after a short settle time
// every process writes under the new key; (3) the passes re-seal the rest, and a final count
// catches stragglers written in between; (4) `--retire` drops old keys with zero records.
// With INNKEEPER_KEYS nothing can follow a file: put the new key first in every process's
// INNKEEPER_KEYS (keeping the old ones after it), restart them, then run the rotation.

import type { AuditTrail } from '../audit/trail.js'
import type { Keyring } from '../crypto/keyring.js'
import { addCurrentKeyToFile, readKeyFileEntries, removeKeysFromFile } from '../crypto/load.js'
import { InnkeeperError } from '../errors.js'
import type { Store } from '../stores/store.js'
import { countAllSecretsByKeyId, resealDocumentSecrets } from './document-secrets.js'

export const KEY_ROTATION_COLLECTION = 'key_rotation'
const STATE_ID = 'current'
const LEASE_KEY = 'key-rotation'
const LEASE_MS = 60_000

export interface RotationState {
  targetKeyId: string
  status: 'running' | 'done'
  /** Where the current pass continues (null: at the start). */
  cursor: string | null
  pass: number
  reencrypted: number
  skipped: number
  startedAt: number
  updatedAt: number
  completedAt?: number
}

export interface RotationProgress {
  done: number
  total: number
  pass: number
}

export interface RotateKeysOptions {
  store: Store
  keyring: Keyring
  /** The key file the keys come from; without it (INNKEEPER_KEYS) no key is added. */
  keyFile?: string
  batchSize?: number
  /** Wait after adding the key, so running processes pick it up (default 2.5 s). */
  settleMs?: number
  /** Passes before giving up on records that keep changing (default 10). */
  maxPasses?: number
  now?: () => number
  owner?: string
  audit?: AuditTrail
  onProgress?: (progress: RotationProgress) => void
  /** Told when the rotation starts: a new key, a resumed one, or re-encryption under the current key. */
  onStart?: (info: { targetKeyId: string; resumed: boolean; addedKey: boolean; total: number }) => void
}

export interface RotationReport {
  targetKeyId: string
  addedKey: boolean
  resumed: boolean
  reencrypted: number
  skipped: number
  passes: number
  /** Records still sealed by other keys, per key id (empty when complete). */
  remaining: Record<string, number>
  complete: boolean
}

export async function readRotationState(store: Store): Promise<RotationState | null> {
  return (await store.getDocument(KEY_ROTATION_COLLECTION, STATE_ID)) as RotationState | null
}

export async function rotateKeys(options: RotateKeysOptions): Promise<RotationReport> {
  const { store, keyring, keyFile } = options
  const now = options.now ?? Date.now
  const batchSize = Math.max(1, options.batchSize ?? 100)
  const owner = options.owner ?? `rotate:${process.pid}`
  const lease = await store.acquireLease(LEASE_KEY, owner, LEASE_MS, now())
  if (!lease) {
    throw new InnkeeperError(
      'conflict',
      'Another `innkeeper keys rotate` is running on this store; wait for it to finish (it resumes where it stops).',
    )
  }
  try {
    let state = await readRotationState(store)
    const resumed = state?.status === 'running'
    let addedKey = false
    if (keyFile) reloadFromFile(keyring, keyFile)
    if (state?.status !== 'running') {
      if (keyFile) {
        addCurrentKeyToFile(keyFile)
        reloadFromFile(keyring, keyFile)
        addedKey = true
        await sleep(options.settleMs ?? 2_500)
      }
      state = {
        targetKeyId: keyring.currentKeyId,
        status: 'running',
        cursor: null,
        pass: 1,
        reencrypted: 0,
        skipped: 0,
        startedAt: now(),
        updatedAt: now(),
      }
      await saveState(store, state)
    } else if (keyring.currentKeyId !== state.targetKeyId) {
      throw new InnkeeperError(
        'key_unavailable',
        `The interrupted rotation re-encrypts under key '${state.targetKeyId}', but this process encrypts with '${keyring.currentKeyId}'. Make '${state.targetKeyId}' the current key (first in INNKEEPER_KEYS, or "current" in the key file) and run it again.`,
        { details: { targetKeyId: state.targetKeyId, currentKeyId: keyring.currentKeyId } },
      )
    }
    const target = state.targetKeyId
    let remaining = othersThan(target, await countAllSecretsByKeyId(store, keyring))
    let total = state.reencrypted + sum(remaining)
    options.onStart?.({ targetKeyId: target, resumed, addedKey, total })
    const maxPasses = options.maxPasses ?? 10
    for (;;) {
      do {
        const result = await store.reencryptSecrets(state.cursor, batchSize)
        state = {
          ...state,
          cursor: result.cursor,
          reencrypted: state.reencrypted + result.reencrypted,
          skipped: state.skipped + result.skipped,
          updatedAt: now(),
        }
        await saveState(store, state)
        await store.renewLease(lease, LEASE_MS, now())
        total = Math.max(total, state.reencrypted)
        options.onProgress?.({ done: state.reencrypted, total, pass: state.pass })
      } while (state.cursor !== null)
      const documents = await resealDocumentSecrets(store, keyring)
      if (documents > 0) {
        state = { ...state, reencrypted: state.reencrypted + documents, updatedAt: now() }
        await saveState(store, state)
      }
      remaining = othersThan(target, await countAllSecretsByKeyId(store, keyring))
      if (sum(remaining) === 0 || state.pass >= maxPasses) break
      // Stragglers: records written under an old key by a process that had not switched yet, or
      // changed while being re-sealed. Give them a moment, then another pass.
      state = { ...state, pass: state.pass + 1, cursor: null }
      await saveState(store, state)
      total = state.reencrypted + sum(remaining)
      await sleep(200)
    }
    const complete = sum(remaining) === 0
    if (complete) state = { ...state, status: 'done', completedAt: now(), updatedAt: now() }
    await saveState(store, state)
    await options.audit?.record({
      action: 'keys.rotated',
      outcome: complete ? 'ok' : 'failed',
      detail: { keyId: target, reencrypted: state.reencrypted, passes: state.pass },
    })
    return {
      targetKeyId: target,
      addedKey,
      resumed,
      reencrypted: state.reencrypted,
      skipped: state.skipped,
      passes: state.pass,
      remaining,
      complete,
    }
  } finally {
    await store.releaseLease(lease).catch(() => false)
  }
}

export interface RetireReport {
  retired: string[]
  /** Old keys kept because records still need them. */
  kept: Record<string, number>
}

/** Removes from the key file every old key that protects no record in this store. */
export async function retireOldKeys(options: {
  store: Store
  keyring: Keyring
  keyFile: string
  audit?: AuditTrail
}): Promise<RetireReport> {
  const { store, keyring, keyFile } = options
  reloadFromFile(keyring, keyFile)
  const state = await readRotationState(store)
  if (state?.status === 'running') {
    throw new InnkeeperError(
      'conflict',
      'A key rotation is still running (or was interrupted); finish it with `innkeeper keys rotate` before retiring keys.',
    )
  }
  const counts = await countAllSecretsByKeyId(store, keyring)
  const current = keyring.currentKeyId
  const old = keyring.keyIds().filter((id) => id !== current)
  const kept: Record<string, number> = {}
  const unused: string[] = []
  for (const id of old) {
    if ((counts[id] ?? 0) > 0) kept[id] = counts[id]!
    else unused.push(id)
  }
  const retired = removeKeysFromFile(keyFile, unused)
  reloadFromFile(keyring, keyFile)
  if (retired.length > 0) {
    await options.audit?.record({ action: 'keys.retired', detail: { keyIds: retired.join(',') } })
  }
  return { retired, kept }
}

function reloadFromFile(keyring: Keyring, keyFile: string): void {
  const entries = readKeyFileEntries(keyFile)
  if (!entries) {
    throw new InnkeeperError(
      'key_unavailable',
      `The key file ${keyFile} does not exist; rotation needs the file the keys were created in.`,
    )
  }
  keyring.replaceKeys(entries)
}

function othersThan(target: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([id, count]) => id !== target && count > 0))
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0)
}

async function saveState(store: Store, state: RotationState): Promise<void> {
  await store.putDocument(KEY_ROTATION_COLLECTION, STATE_ID, { ...state })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
