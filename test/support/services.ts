// Reaching the real PostgreSQL and Redis the store tests run against: reachability checks that
// fail loudly under CI (naming the command that starts the service) and skip loudly elsewhere,
// plus unique schema / key-prefix names so test files never see each other's data, and a store
// of its own on either server for one test (`scratchStore`).
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'

export const POSTGRES_TEST_URL =
  process.env.INNKEEPER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_TEST_URL = process.env.INNKEEPER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export const START_POSTGRES_COMMAND =
  'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
export const START_REDIS_COMMAND =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'

export interface ServiceAvailability {
  available: boolean
  /** Why the service is unusable, with the command that starts it; empty when available. */
  reason: string
}

function isCi(): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}

/** Opens and closes a TCP connection to host:port within `timeoutMs`. */
function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const finish = (ok: boolean) => {
      socket.removeAllListeners()
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => finish(false))
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
  })
}

async function checkService(
  label: string,
  url: string,
  defaultPort: number,
  startCommand: string,
): Promise<ServiceAvailability> {
  const parsed = new URL(url)
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'
  const port = parsed.port ? Number(parsed.port) : defaultPort
  if (await canConnect(host, port, 2_000)) return { available: true, reason: '' }
  const reason =
    `${label} is not reachable at ${host}:${port}. Start it with:\n    ${startCommand}\n` +
    `(or point ${label === 'PostgreSQL' ? 'INNKEEPER_TEST_POSTGRES_URL' : 'INNKEEPER_TEST_REDIS_URL'} at a running server)`
  return { available: false, reason }
}

/**
 * Decides whether a test file that needs a real service runs. Under CI an unreachable service is
 * an error (the caller registers a failing test with `reason`); elsewhere the file is skipped
 * and a warning goes to stderr so nobody mistakes a skip for a pass.
 */
async function requireService(
  label: string,
  url: string,
  defaultPort: number,
  startCommand: string,
): Promise<ServiceAvailability> {
  const availability = await checkService(label, url, defaultPort, startCommand)
  if (!availability.available && !isCi()) {
    process.stderr.write(
      `\n!!!!!!!!!! SKIPPING ${label} store tests !!!!!!!!!!\n${availability.reason}\n` +
        `Under CI=true these tests fail instead of skipping.\n\n`,
    )
  }
  return availability
}

export function requirePostgres(): Promise<ServiceAvailability> {
  return requireService('PostgreSQL', POSTGRES_TEST_URL, 5432, START_POSTGRES_COMMAND)
}

export function requireRedis(): Promise<ServiceAvailability> {
  return requireService('Redis', REDIS_TEST_URL, 6379, START_REDIS_COMMAND)
}

/** True when an unavailable service must fail the run rather than skip it. */
export function mustFailWhenUnavailable(): boolean {
  return isCi()
}

/** A name unique to this run, usable as a PostgreSQL schema and inside a Redis key prefix. */
export function uniqueTestName(kind: string): string {
  return `innkeeper_test_${kind}_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** `base` with one query parameter set (e.g. `?schema=…` or `?prefix=…`). */
export function withQueryParam(base: string, name: string, value: string): string {
  const url = new URL(base)
  url.searchParams.set(name, value)
  return url.toString()
}

/**
 * A store URL of its own on PostgreSQL (a schema) or Redis (a key prefix), and how to drop what
 * was written there; undefined when the server is not running here (under CI that throws).
 */
export async function scratchStore(
  kind: 'postgres' | 'redis',
  label: string,
): Promise<{ url: string; cleanup(): Promise<void> } | undefined> {
  const service = kind === 'postgres' ? await requirePostgres() : await requireRedis()
  if (!service.available) {
    if (mustFailWhenUnavailable()) throw new Error(service.reason)
    return undefined
  }
  const name = uniqueTestName(`${label}_${kind}`)
  if (kind === 'postgres') {
    return {
      url: withQueryParam(POSTGRES_TEST_URL, 'schema', name),
      async cleanup() {
        const admin = new pg.Client({ connectionString: POSTGRES_TEST_URL })
        await admin.connect()
        await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
        await admin.end()
      },
    }
  }
  return {
    url: withQueryParam(REDIS_TEST_URL, 'prefix', `${name}:`),
    async cleanup() {
      const admin = new Redis(REDIS_TEST_URL)
      const keys = await admin.keys(`${name}:*`)
      if (keys.length > 0) await admin.del(...keys)
      admin.disconnect()
    },
  }
}
