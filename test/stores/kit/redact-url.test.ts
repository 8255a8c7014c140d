// Store URLs as messages show them: one redaction for PostgreSQL and Redis, which masks the
// password and every query parameter named like a credential, and keeps the rest readable.
import { describe, expect, it } from 'vitest'
import { redactUrl } from '../../../src/stores/kit/redact-url.js'
import { parsePostgresUrl } from '../../../src/stores/postgres/url.js'
import { parseRedisUrl } from '../../../src/stores/redis/url.js'

describe('store URL redaction', () => {
  it('masks the password and credential query parameters, keeps host, database and the rest', () => {
    const shown = redactUrl(
      new URL('redis://user:hunter2@cache.example.com:6380/2?password=p1&auth_token=t1&apiKey=k1&tls=true'),
    )
    expect(shown).toBe(
      'redis://user:***@cache.example.com:6380/2?password=***&auth_token=***&apiKey=***&tls=true',
    )
  })

  it('a Redis store URL is shown the same way PostgreSQL is: query-string credentials masked too', () => {
    const redis = parseRedisUrl('rediss://:hunter2@cache.example.com:6380/0?password=p1&prefix=app:')
    expect(redis.display).toBe("rediss://:***@cache.example.com:6380/0?password=*** (prefix 'app:')")
    const postgres = parsePostgresUrl(
      'postgres://me:hunter2@db.example.com/app?sslpassword=p1&sslmode=require',
    )
    expect(postgres.display).toBe(
      'postgres://me:***@db.example.com/app?sslpassword=***&sslmode=require&schema=public',
    )
  })
})
