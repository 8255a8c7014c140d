// The changes feed of the Redis store: a second connection SUBSCRIBEs to `<prefix>changes`, on
// which the writing scripts and document writes PUBLISH (see ../changes.ts for the feed's contract).

import type { Redis } from 'ioredis'
import { type ChangesSource, changeFromPayload } from '../changes.js'

/**
 * ioredis reconnects and subscribes again by itself; while it is disconnected the feed is not
 * live (a message published meanwhile is lost).
 */
export function redisChangesSource(redis: Redis, channel: string): ChangesSource {
  let subscriber: Redis | undefined
  return {
    async start(hub) {
      const next = redis.duplicate({ lazyConnect: true })
      next.on('error', () => undefined)
      next.on('message', (from: string, message: string) => {
        if (from === channel) hub.emit(changeFromPayload(message))
      })
      next.on('close', () => hub.setLive(false))
      // After a reconnect ioredis subscribes again before it reports ready.
      next.on('ready', () => hub.setLive(true))
      try {
        await next.connect()
        await next.subscribe(channel)
      } catch (error) {
        next.disconnect()
        throw error
      }
      subscriber = next
      hub.setLive(true)
    },
    async stop() {
      const current = subscriber
      subscriber = undefined
      current?.removeAllListeners('close')
      await current?.quit().catch(() => current.disconnect())
    },
  }
}
