// `innkeeper disconnect <conn>`: revokes the grant where the platform supports it, then deletes
// the connection. A failed revocation still deletes, and says what to do on the platform.
import type { Command } from 'commander'
import { withKeeper } from '../keeper.js'
import { out, warn } from '../output.js'

export function registerDisconnect(program: Command): void {
  program
    .command('disconnect')
    .description('revoke the grant where the platform supports it, then delete the connection')
    .argument('<connection>', '<app>/<name>, or <app> for <app>/main')
    .addHelpText('after', '\nExample:\n  innkeeper disconnect smily/main')
    .action(async (id: string, _options: unknown, command: Command) => {
      const result = await withKeeper(command, async (keeper) => {
        const info = await keeper.connection(id).info()
        return { info, ...(await keeper.disconnect(info.id)) }
      })
      if (result.revocationError) {
        warn(
          `revoking the grant failed (${result.revocationError}); remove the app's access in the platform's settings.`,
        )
      }
      out(
        result.revoked
          ? `Revoked the grant and removed ${result.info.id}.`
          : `Removed ${result.info.id}.${result.revocationError ? '' : ' The platform has no revocation endpoint: remove the app’s access there if needed.'}`,
      )
    })
}
