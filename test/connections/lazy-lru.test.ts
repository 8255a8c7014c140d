// The bounded maps built on first write (src/connections/lazy-lru.ts): before any write they
// answer as an empty map does, and once written they keep the `max` most recently used entries.
import { expect, it } from 'vitest'
import { LazyLru } from '../../src/connections/lazy-lru.js'

it('a map never written to answers as an empty one', () => {
  const map = new LazyLru<string, number>(2)
  expect(map.size).toBe(0)
  expect(map.get('a')).toBeUndefined()
  expect(map.peek('a')).toBeUndefined()
  expect(map.has('a')).toBe(false)
  expect(map.delete('a')).toBe(false)
  map.clear()
  expect(map.size).toBe(0)
})

it('once written it keeps the most recently used entries, at most max', () => {
  const map = new LazyLru<string, number>(2)
  map.set('a', 1)
  map.set('b', 2)
  expect(map.get('a')).toBe(1)
  map.set('c', 3)
  expect([map.has('a'), map.has('b'), map.has('c')]).toEqual([true, false, true])
  expect(map.size).toBe(2)
  expect(map.delete('a')).toBe(true)
  expect(map.size).toBe(1)
})
