// `innkeeper demo`: runs every platform's flow against local emulators (see src/cli/demo.ts).
import type { Command } from 'commander'

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run every platform’s full flow against local emulators, narrated (no accounts needed)')
    .addHelpText('after', '\nExample:\n  innkeeper demo')
    .action(async () => {
      // Loaded on demand: the emulators (and their HTTP framework) are not needed by other commands.
      const { runDemo } = await import('../demo.js')
      await runDemo()
    })
}
