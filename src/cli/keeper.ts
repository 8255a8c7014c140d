// Opens the library for one command with the global `--store` (or INNKEEPER_STORE) and closes it
// afterwards, so every command sees the same store the same way.
import type { Command } from 'commander'
import { cliActor } from '../audit/actor.js'
import { Innkeeper } from '../connections/innkeeper.js'

export function storeOption(command: Command): string | undefined {
  return (command.optsWithGlobals() as { store?: string }).store
}

export async function withKeeper<T>(command: Command, run: (keeper: Innkeeper) => Promise<T>): Promise<T> {
  const keeper = await Innkeeper.open({ store: storeOption(command), actor: cliActor() })
  try {
    return await run(keeper)
  } finally {
    await keeper.close()
  }
}
