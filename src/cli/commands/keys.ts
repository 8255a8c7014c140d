// `innkeeper keys create|list|revoke`: API keys for `innkeeper serve`. A new key is printed once
// (stdout, so it can be piped into a secret manager); the store keeps only its SHA-256 hash.
import type { Command } from 'commander'
import { createApiKey, listApiKeys, revokeApiKey } from '../../server/api-keys.js'
import { withKeeper, withKeeperCreating } from '../keeper.js'
import { formatTime, out, printJson, printTable, say } from '../output.js'
import { registerEncryptionKeyCommands } from './keys-encryption.js'

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description(
      'API keys for `innkeeper serve` (create, list, revoke), and the encryption keys of stored secrets (rotate, status)',
    )
  registerEncryptionKeyCommands(keys)

  keys
    .command('create')
    .description('create an API key; it is shown once and only its hash is stored')
    .option('--name <name>', 'what the key is for, e.g. the service that uses it', 'default')
    .option('--json', 'print { id, name, key } as JSON')
    .addHelpText('after', '\nExample:\n  $ innkeeper keys create --name billing-worker > billing.key')
    .action(async (options: { name: string; json?: boolean }, command: Command) => {
      await withKeeperCreating(command, async (keeper) => {
        const { key, record } = await createApiKey(keeper.store, options.name)
        if (options.json) printJson({ id: record.id, name: record.name, key })
        else out(key)
        say(`Created API key ${record.id} (${record.name}). It is shown only now: Innkeeper keeps its hash.`)
      })
    })

  keys
    .command('list')
    .description('list API keys (ids and names; keys themselves are never stored)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withKeeper(command, async (keeper) => {
        const records = await listApiKeys(keeper.store)
        if (options.json) return printJson(records)
        if (records.length === 0) return say('No API keys. Create one with `innkeeper keys create`.')
        printTable(records, [
          { header: 'id', value: (record) => record.id },
          { header: 'name', value: (record) => record.name },
          { header: 'created', value: (record) => formatTime(record.createdAt) },
        ])
      })
    })

  keys
    .command('revoke')
    .description('revoke an API key by id (from `innkeeper keys list`)')
    .argument('<id>', 'the key id')
    .action(async (id: string, _options: unknown, command: Command) => {
      await withKeeper(command, async (keeper) => {
        if (!(await revokeApiKey(keeper.store, id))) {
          say(`There is no API key ${id}. List keys with \`innkeeper keys list\`.`)
          process.exitCode = 2
          return
        }
        say(`Revoked API key ${id}. Requests with it now get 401.`)
      })
    })
}
