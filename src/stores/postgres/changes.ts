// The changes feed on PostgreSQL: one dedicated client LISTENs on the schema's channel (writes
// NOTIFY in the same statement, so a notification goes out exactly when its change commits).
// When the client is lost the feed is not live; it reconnects every second until it is.

import pg from 'pg'
import { type ChangesHub, type ChangesSource, changeFromPayload } from '../changes.js'
import { quoteIdentifier } from './migrations.js'

/** How long the changes listener waits before reconnecting after it lost its server. */
const LISTEN_RETRY_MS = 1_000

export function postgresChangesSource(connectionString: string, channel: string): ChangesSource {
  let client: pg.Client | undefined
  let stopped = false
  let retry: NodeJS.Timeout | undefined
  const listen = async (hub: ChangesHub) => {
    const next = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 })
    next.on('error', () => undefined)
    next.on('notification', (message) => {
      if (message.channel === channel) hub.emit(changeFromPayload(message.payload ?? ''))
    })
    next.on('end', () => {
      if (client !== next || stopped) return
      client = undefined
      hub.setLive(false)
      scheduleRetry(hub)
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${quoteIdentifier(channel)}`)
    } catch (error) {
      await next.end().catch(() => undefined)
      throw error
    }
    if (stopped) {
      await next.end().catch(() => undefined)
      return
    }
    client = next
    hub.setLive(true)
  }
  const scheduleRetry = (hub: ChangesHub) => {
    retry = setTimeout(() => {
      retry = undefined
      if (!stopped) listen(hub).catch(() => scheduleRetry(hub))
    }, LISTEN_RETRY_MS)
    retry.unref()
  }
  return {
    async start(hub) {
      stopped = false
      await listen(hub)
    },
    async stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      const current = client
      client = undefined
      await current?.end().catch(() => undefined)
    },
  }
}
