// Opens the library for one command with the global `--store` (or INNKEEPER_STORE) and closes it
// afterwards, so every command sees the same store the same way.
import type { Command } from 'commander'
import { cliActor } from '../audit/actor.js'
import { Innkeeper, type InnkeeperOptions } from '../innkeeper.js'

export function storeOption(command: Command): string | undefined {
  return (command.optsWithGlobals() as { store?: string }).store
}

/**
 * Opens the store for one command. Only commands that write pass `{ create: true }`; the others
 * refuse a store that does not exist (`store_not_found`) instead of creating an empty one.
 */
export async function withKeeper<T>(
  command: Command,
  run: (keeper: Innkeeper) => Promise<T>,
  options: { create?: boolean } & Pick<InnkeeperOptions, 'allowPrivateWebhooks'> = {},
): Promise<T> {
  const { create, ...rest } = options
  const keeper = await Innkeeper.open({
    store: storeOption(command),
    actor: cliActor(),
    create: create ?? false,
    ...rest,
  })
  try {
    return await run(keeper)
  } finally {
    await keeper.close()
  }
}

/** `withKeeper` for commands that write: creates the store (and key file) when it does not exist. */
export function withKeeperCreating<T>(
  command: Command,
  run: (keeper: Innkeeper) => Promise<T>,
  options: Pick<InnkeeperOptions, 'allowPrivateWebhooks'> = {},
): Promise<T> {
  return withKeeper(command, run, { ...options, create: true })
}
