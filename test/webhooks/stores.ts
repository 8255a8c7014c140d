// The stores the webhook tests run against: SQLite (the fixture's temp file) always, PostgreSQL
// and Redis when reachable (skipped loudly, or failing under CI=true, as in test/stores).
import { it } from 'vitest'
import {
  mustFailWhenUnavailable,
  POSTGRES_TEST_URL,
  REDIS_TEST_URL,
  requirePostgres,
  requireRedis,
  uniqueTestName,
  withQueryParam,
} from '../support/services.js'

export interface StoreCase {
  name: string
  /** A store URL for a fresh, empty installation; undefined for the fixture's SQLite file. */
  url: () => string | undefined
}

export async function storeCases(): Promise<StoreCase[]> {
  const cases: StoreCase[] = [{ name: 'sqlite', url: () => undefined }]
  const [pg, redis] = await Promise.all([requirePostgres(), requireRedis()])
  if (pg.available)
    cases.push({
      name: 'postgres',
      url: () => withQueryParam(POSTGRES_TEST_URL, 'schema', uniqueTestName('wh')),
    })
  else if (mustFailWhenUnavailable())
    it('PostgreSQL is reachable', () => {
      throw new Error(pg.reason)
    })
  if (redis.available)
    cases.push({
      name: 'redis',
      url: () => withQueryParam(REDIS_TEST_URL, 'prefix', `${uniqueTestName('wh')}:`),
    })
  else if (mustFailWhenUnavailable())
    it('Redis is reachable', () => {
      throw new Error(redis.reason)
    })
  return cases
}
