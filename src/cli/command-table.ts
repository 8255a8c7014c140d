// The table of `innkeeper` commands: each top-level name (in `--help` order) and how to load the
// file that registers it. `run.ts` loads only the file of the command being run (all of them
// for `--help`, `help` or an unknown word), so a one-shot command such as `token` does not pay
// for the server, the emulators or the drivers of stores it does not open.
import type { Command } from 'commander'

type Register = (program: Command) => void

export interface CommandEntry {
  /** The top-level command names the file registers (the first is the command itself). */
  names: readonly string[]
  load: () => Promise<Register>
}

export const COMMANDS: readonly CommandEntry[] = [
  { names: ['apps'], load: async () => (await import('./commands/apps.js')).registerApps },
  { names: ['providers'], load: async () => (await import('./commands/providers.js')).registerProviders },
  { names: ['connect'], load: async () => (await import('./commands/connect.js')).registerConnect },
  {
    names: ['connect-link'],
    load: async () => (await import('./commands/connect-link.js')).registerConnectLink,
  },
  {
    names: ['connections'],
    load: async () => (await import('./commands/connections.js')).registerConnections,
  },
  { names: ['show'], load: async () => (await import('./commands/show.js')).registerShow },
  { names: ['token'], load: async () => (await import('./commands/token.js')).registerToken },
  { names: ['refresh'], load: async () => (await import('./commands/refresh.js')).registerRefresh },
  { names: ['request'], load: async () => (await import('./commands/request.js')).registerRequest },
  {
    names: ['disconnect'],
    load: async () => (await import('./commands/disconnect.js')).registerDisconnect,
  },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemo },
  { names: ['doctor'], load: async () => (await import('./commands/doctor.js')).registerDoctor },
  { names: ['emulate'], load: async () => (await import('./commands/emulate.js')).registerEmulate },
  { names: ['worker'], load: async () => (await import('./commands/worker.js')).registerWorker },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).registerServe },
  { names: ['keys'], load: async () => (await import('./commands/keys.js')).registerKeys },
  { names: ['open'], load: async () => (await import('./commands/open.js')).registerOpen },
  { names: ['transfer'], load: async () => (await import('./commands/transfer.js')).registerTransfer },
  { names: ['audit'], load: async () => (await import('./commands/audit.js')).registerAudit },
  { names: ['webhooks'], load: async () => (await import('./commands/webhooks.js')).registerWebhooks },
]

/**
 * Registers the command named `name` only, when the table knows it; otherwise (no command,
 * `help`, a typo that deserves a suggestion) every command, in table order.
 */
export async function registerCommands(program: Command, name: string): Promise<void> {
  const entry = COMMANDS.find((candidate) => candidate.names.includes(name))
  const wanted = entry ? [entry] : COMMANDS
  const registers = await Promise.all(wanted.map((candidate) => candidate.load()))
  for (const register of registers) register(program)
}
