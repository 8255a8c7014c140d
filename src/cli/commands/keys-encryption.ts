// `innkeeper keys rotate|status`: the encryption keys that protect stored secrets (not the API
// keys of `innkeeper serve`, which share the `keys` command). Rotation itself is in src/keys/.
import { SingleBar } from 'cli-progress'
import type { Command } from 'commander'
import { cliActor } from '../../audit/actor.js'
import { resolveHome } from '../../connections/home.js'
import type { Keyring } from '../../crypto/keyring.js'
import { InnkeeperError } from '../../errors.js'
import { Innkeeper } from '../../innkeeper.js'
import { keyStatus, type RotationProgress, retireOldKeys, rotateKeys } from '../../keys/index.js'
import { openStoreWithKeys } from '../../keys/open-with-keys.js'
import type { Store } from '../../stores/store.js'
import { storeOption } from '../keeper.js'
import { isTerminal, out, printJson, printTable, say } from '../output.js'

interface KeyContext {
  store: Store
  keyring: Keyring
  keeper: Innkeeper
  /** Undefined when the keys come from INNKEEPER_KEYS. */
  keyFile: string | undefined
}

async function withKeys<T>(command: Command, run: (context: KeyContext) => Promise<T>): Promise<T> {
  const where = resolveHome({ store: storeOption(command) })
  const keyFile = where.keys?.trim() ? undefined : where.keyFile
  const { keyring, store } = await openStoreWithKeys(where.storeUrl, {
    keys: where.keys,
    keyFile: where.keyFile,
  })
  const keeper = await Innkeeper.open({ store, keyring, actor: cliActor() })
  try {
    return await run({ store, keyring, keeper, keyFile })
  } finally {
    await keeper.close()
    await store.close()
  }
}

/** A bar on a terminal, a plain line per batch (at most one a second) when piped. */
function progressReporter(): { update(progress: RotationProgress): void; stop(): void } {
  if (isTerminal(process.stderr)) {
    const bar = new SingleBar(
      { format: 're-encrypting [{bar}] {value}/{total} secrets, pass {pass}', stream: process.stderr },
      undefined,
    )
    let started = false
    return {
      update({ done, total, pass }) {
        if (!started) bar.start(total, done, { pass })
        started = true
        bar.setTotal(total)
        bar.update(done, { pass })
      },
      stop: () => started && bar.stop(),
    }
  }
  let printedAt = 0
  return {
    update({ done, total, pass }) {
      if (Date.now() - printedAt < 1000 && done < total) return
      printedAt = Date.now()
      say(`re-encrypted ${done}/${total} secrets (pass ${pass})`)
    },
    stop() {},
  }
}

export function registerEncryptionKeyCommands(keys: Command): void {
  keys
    .command('rotate')
    .description(
      'add a new encryption key and re-encrypt every stored secret under it, while everything keeps running',
    )
    .option('--batch <n>', 'records re-encrypted per batch', (value) => Number.parseInt(value, 10), 100)
    .option('--retire', 'afterwards, remove old keys that protect no record from the key file')
    .addHelpText(
      'after',
      `
With a key file (the default, ~/.innkeeper/keys.json): a new key is added and made current, running
processes pick it up within seconds, then every secret is re-encrypted. An interrupted rotation
continues where it stopped when run again.
With INNKEEPER_KEYS: put the new key FIRST in INNKEEPER_KEYS for every process (keep the old ones
after it), restart them, then run this to re-encrypt everything under the new key.

Examples:
  innkeeper keys rotate
  innkeeper keys rotate --batch 500 --retire
  innkeeper keys status`,
    )
    .action(async (options: { batch: number; retire?: boolean }, command: Command) => {
      if (!Number.isInteger(options.batch) || options.batch <= 0) {
        throw new InnkeeperError('invalid_config', '--batch must be a positive whole number.')
      }
      await withKeys(command, async ({ store, keyring, keeper, keyFile }) => {
        if (!keyFile) {
          say(
            `Keys come from INNKEEPER_KEYS: no key is added. Re-encrypting under the first one ('${keyring.currentKeyId}'). ` +
              'Every process must already have it first in INNKEEPER_KEYS.',
          )
        }
        const progress = progressReporter()
        const report = await rotateKeys({
          store,
          keyring,
          keyFile,
          batchSize: options.batch,
          audit: keeper.audit,
          onStart: ({ targetKeyId, resumed, addedKey, total }) =>
            say(
              resumed
                ? `Resuming the rotation to key ${targetKeyId} (${total} secrets to go).`
                : addedKey
                  ? `Added key ${targetKeyId} to ${keyFile} and made it current; re-encrypting ${total} secrets.`
                  : `Re-encrypting ${total} secrets under key ${targetKeyId}.`,
            ),
          onProgress: (p) => progress.update(p),
        })
        progress.stop()
        if (!report.complete) {
          const left = Object.entries(report.remaining)
            .map(([id, count]) => `${count} under ${id}`)
            .join(', ')
          throw new InnkeeperError(
            'conflict',
            `The rotation to ${report.targetKeyId} is not complete (${left}): records kept changing or a process still writes with an old key. Run \`innkeeper keys rotate\` again; it resumes.`,
          )
        }
        out(
          `Rotated to key ${report.targetKeyId}: ${report.reencrypted} secrets re-encrypted in ${report.passes} pass${report.passes === 1 ? '' : 'es'}.`,
        )
        if (options.retire) {
          if (!keyFile) {
            say(
              'Remove the old keys from INNKEEPER_KEYS yourself: `innkeeper keys status` shows none is needed.',
            )
            return
          }
          const retired = await retireOldKeys({ store, keyring, keyFile, audit: keeper.audit })
          out(
            retired.retired.length > 0
              ? `Retired keys: ${retired.retired.join(', ')}.`
              : 'No old key to retire.',
          )
          for (const [id, count] of Object.entries(retired.kept))
            say(`Kept key ${id}: ${count} records still need it.`)
        } else {
          say(
            'Old keys stay in the key file until you run `innkeeper keys rotate --retire` (safe once `keys status` shows 0 under them).',
          )
        }
      })
    })

  keys
    .command('status')
    .description('how many stored secrets each encryption key protects, and the last rotation')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  innkeeper keys status --json')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withKeys(command, async ({ store, keyring, keyFile }) => {
        const status = await keyStatus(store, keyring, keyFile)
        if (options.json) return printJson(status)
        printTable(status.keys, [
          { header: 'key id', value: (key) => key.id },
          { header: 'records', value: (key) => String(key.records) },
          { header: 'current', value: (key) => (key.current ? 'yes' : '') },
          { header: 'loaded', value: (key) => (key.loaded ? 'yes' : 'MISSING') },
        ])
        say(status.keyFile ? `Keys from ${status.keyFile}.` : 'Keys from INNKEEPER_KEYS.')
        if (status.rotation) {
          say(
            `Last rotation: to ${status.rotation.targetKeyId}, ${status.rotation.status}, ${status.rotation.reencrypted} re-encrypted.`,
          )
        }
      })
    })
}
