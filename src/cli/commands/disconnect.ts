// `innkeeper disconnect <conn>`: revokes the grant where the app has a revocation endpoint, then
// deletes the connection (its tokens are gone from the store). Says plainly when the grant stays
// valid on the platform, and who can end it there (the provider definition's `ownerRevocation`).
import type { Command } from 'commander'
import { getProvider } from '../../providers/registry.js'
import { withKeeper } from '../keeper.js'
import { out, warn } from '../output.js'

export function registerDisconnect(program: Command): void {
  program
    .command('disconnect')
    .description(
      'revoke the grant where the platform has a revocation endpoint, then delete the connection and its tokens',
    )
    .argument('<connection>', '<app>/<name>, or <app> for <app>/main')
    .addHelpText(
      'after',
      `
Without a revocation endpoint (BookingSync: only the account owner can revoke, by uninstalling
the application) the grant stays valid on the platform; Innkeeper only forgets its tokens.

Example:
  innkeeper disconnect smily/main`,
    )
    .action(async (id: string, _options: unknown, command: Command) => {
      const result = await withKeeper(command, async (keeper) => {
        const info = await keeper.connection(id).info()
        return { info, ...(await keeper.disconnect(info.id)) }
      })
      const provider = getProvider(result.info.provider)
      const removed = `${result.info.id} is removed: Innkeeper deleted its tokens.`
      if (result.revoked) {
        out(`Revoked the grant at ${provider.displayName}; ${removed}`)
      } else if (result.revocationError) {
        warn(
          `revoking the grant failed (${result.revocationError}); it may still be valid: remove the app's access in ${provider.displayName}'s settings.`,
        )
        out(removed)
      } else if (result.info.metadata.grant === 'api_key') {
        out(`${removed} The API key itself is still valid: revoke it in ${provider.displayName} if needed.`)
      } else if (result.revocationEndpoint) {
        out(
          `${removed} ${provider.displayName} was not asked to revoke anything: the connection held no token.`,
        )
      } else {
        const owner =
          provider.ownerRevocation ?? "Remove the app's access in the platform's settings if needed."
        out(
          `${removed} ${provider.displayName} has no revocation endpoint, so the grant is still valid there. ${owner}`,
        )
      }
    })
}
