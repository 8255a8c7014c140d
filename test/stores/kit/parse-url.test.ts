// Reading a server store's URL: one check of the text and the scheme for PostgreSQL and Redis,
// each message saying how the URL is written, and never echoing a password.
import { describe, expect, it } from 'vitest'
import { parsePostgresUrl } from '../../../src/stores/postgres/url.js'
import { parseRedisUrl } from '../../../src/stores/redis/url.js'

function failure(read: () => unknown): { code?: string; message: string } {
  try {
    read()
  } catch (error) {
    return error as { code?: string; message: string }
  }
  throw new Error('expected the URL to be refused')
}

describe('store URL parsing', () => {
  it('text that is not a URL is refused with an example of the right form', () => {
    const postgres = failure(() => parsePostgresUrl('db.example.com/app'))
    expect(postgres.code).toBe('invalid_config')
    expect(postgres.message).toContain(
      'write it as postgres://user:password@host:5432/database?schema=innkeeper',
    )
    const redis = failure(() => parseRedisUrl('not a url'))
    expect(redis.code).toBe('invalid_config')
    expect(redis.message).toContain('write it as redis://[:password@]host:6379/0?prefix=innkeeper:')
  })

  it('a URL of another scheme names the schemes each store accepts, without the password', () => {
    const postgres = failure(() => parsePostgresUrl('mysql://me:hunter2@db.example.com/app'))
    expect(postgres.message).toBe(
      'A PostgreSQL store URL starts with postgres:// or postgresql://, not mysql://.',
    )
    const redis = failure(() => parseRedisUrl('http://:hunter2@cache.example.com:6379'))
    expect(redis.message).toBe('A Redis store URL starts with redis:// or rediss://, not http://.')
    expect(`${postgres.message}${redis.message}`).not.toContain('hunter2')
  })

  it('both schemes of each store are accepted', () => {
    expect(parsePostgresUrl('postgresql://db.example.com/app').schema).toBe('public')
    expect(parseRedisUrl('rediss://cache.example.com:6380/0').prefix).toBe('innkeeper:')
  })
})
