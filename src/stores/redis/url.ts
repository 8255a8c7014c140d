// The Redis store's URL: redis://[:password@]host:6379/0?prefix=innkeeper:&wait=1&waitTimeout=1000
//   prefix       every key starts with it (default `innkeeper:`)
//   wait         after each token write, WAIT for this many replicas to acknowledge it
//   waitTimeout  how long WAIT may take, in ms (default 1000)
// Parsed into the connection URL ioredis gets (Innkeeper's parameters removed) and a display
// form without credentials for messages.

import { StoreError } from '../../errors.js'
import { parseStoreUrl } from '../kit/parse-url.js'
import { redactUrl } from '../kit/redact-url.js'

/** What code may give instead of the URL's parameters (each wins over its parameter). */
export interface RedisUrlOptions {
  /** Key prefix; overrides `?prefix=`. */
  prefix?: string
  /** Replicas that must acknowledge each token write (WAIT); overrides `?wait=`. */
  waitReplicas?: number
  waitTimeoutMs?: number
}

export interface RedisTarget {
  /** The URL for ioredis, without Innkeeper's own parameters. */
  url: string
  prefix: string
  waitReplicas: number
  waitTimeoutMs: number
  /** The password-free URL and prefix, for messages. */
  display: string
}

export const DEFAULT_REDIS_PREFIX = 'innkeeper:'

export function parseRedisUrl(url: string, options: RedisUrlOptions = {}): RedisTarget {
  const parsed = parseStoreUrl(url, {
    name: 'Redis',
    protocols: ['redis:', 'rediss:'],
    example: 'redis://[:password@]host:6379/0?prefix=innkeeper:',
  })
  const prefix = options.prefix ?? parsed.searchParams.get('prefix') ?? DEFAULT_REDIS_PREFIX
  const waitReplicas = options.waitReplicas ?? Number(parsed.searchParams.get('wait') ?? 0)
  const waitTimeoutMs = options.waitTimeoutMs ?? Number(parsed.searchParams.get('waitTimeout') ?? 1000)
  for (const name of ['prefix', 'wait', 'waitTimeout']) parsed.searchParams.delete(name)
  const display = redactUrl(parsed)
  if (
    !Number.isInteger(waitReplicas) ||
    waitReplicas < 0 ||
    !Number.isInteger(waitTimeoutMs) ||
    waitTimeoutMs < 0
  ) {
    throw new StoreError(
      'invalid_config',
      `In ${display}, wait and waitTimeout must be whole numbers of replicas and milliseconds (e.g. ?wait=1&waitTimeout=1000).`,
    )
  }
  return {
    url: parsed.toString(),
    prefix,
    waitReplicas,
    waitTimeoutMs,
    display: `${display} (prefix '${prefix}')`,
  }
}
