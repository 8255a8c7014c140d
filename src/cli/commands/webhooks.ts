// `innkeeper webhooks add URL [--events a,b] | list [--json] | remove ID`: the receivers that
// hear about connection events. The signing secret is printed once, by `add`.
import type { Command } from 'commander'
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/events.js'
import { withKeeper, withKeeperCreating } from '../keeper.js'
import { formatTime, out, printJson, printTable, say } from '../output.js'

export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('manage webhook receivers (signed, retried deliveries of connection events)')
  webhooks
    .command('add <url>')
    .description('add a receiver; prints its signing secret once')
    .option(
      '--events <list>',
      `comma-separated events (default: all but connection.refreshed): ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    )
    .option('--json', 'print JSON (including the secret)')
    .option(
      '--allow-private-webhooks',
      'accept a receiver on a private, loopback or link-local address (env INNKEEPER_ALLOW_PRIVATE_WEBHOOKS=1)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  innkeeper webhooks add https://app.example.com/innkeeper-hooks\n  innkeeper webhooks add https://app.example.com/hooks --events connection.error,connection.needs_reauth',
    )
    .action(
      async (
        url: string,
        options: { events?: string; json?: boolean; allowPrivateWebhooks?: boolean },
        command: Command,
      ) => {
        const added = await withKeeperCreating(
          command,
          (keeper) => keeper.webhooks.add(url, { events: options.events?.split(',') }),
          options.allowPrivateWebhooks ? { allowPrivateWebhooks: true } : {},
        )
        if (options.json) return printJson(added)
        say(`Added webhook ${added.id} for ${added.events.join(', ')}.`)
        say('Its signing secret (shown only now; verify deliveries with verifyWebhook()):')
        out(added.secret)
      },
    )
  webhooks
    .command('list')
    .description('list receivers with their waiting and dead deliveries')
    .option('--json', 'print JSON (receivers and deliveries)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { list, deliveries } = await withKeeper(command, async (keeper) => ({
        list: await keeper.webhooks.list(),
        deliveries: await keeper.webhooks.deliveries({ limit: 1000 }),
      }))
      if (options.json) return printJson({ webhooks: list, deliveries })
      if (list.length === 0) {
        say('No webhook receivers. Add one with `innkeeper webhooks add https://…`.')
        return
      }
      const now = Date.now()
      printTable(list, [
        { header: 'id', value: (w) => w.id },
        { header: 'url', value: (w) => w.url },
        { header: 'events', value: (w) => w.events.join(',') },
        { header: 'waiting', value: (w) => String(w.pending) },
        { header: 'dead', value: (w) => String(w.dead) },
        { header: 'added', value: (w) => formatTime(w.createdAt, now) },
      ])
      const dead = deliveries.filter((d) => d.state === 'dead')
      if (dead.length > 0) {
        say(`\n${dead.length} dead deliveries (gave up after 24 hours):`)
        for (const d of dead)
          say(
            `  ${d.receiverId} ${d.type} ${d.connection ?? '-'} after ${d.attempts} attempts: ${d.lastError ?? '-'}`,
          )
      }
    })
  webhooks
    .command('remove <id>')
    .description('remove a receiver and its waiting deliveries')
    .action(async (id: string, _options: unknown, command: Command) => {
      await withKeeper(command, (keeper) => keeper.webhooks.remove(id))
      say(`Removed webhook ${id}.`)
    })
}
