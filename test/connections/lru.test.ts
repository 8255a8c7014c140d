// The bounded map behind `keeper.connection(id)`'s handle cache: it never holds more than its
// capacity, and what goes first is what was used least recently.
import { describe, expect, it } from 'vitest'
import { LruMap } from '../../src/connections/lru.js'

describe('LruMap', () => {
  it('keeps at most its capacity, dropping the least recently used', () => {
    const map = new LruMap<string, number>(3)
    map.set('a', 1)
    map.set('b', 2)
    map.set('c', 3)
    expect(map.get('a')).toBe(1) // a is now the most recent
    map.set('d', 4)
    expect(map.size).toBe(3)
    expect(map.get('b')).toBeUndefined()
    expect([map.get('a'), map.get('c'), map.get('d')]).toEqual([1, 3, 4])
    for (let i = 0; i < 10_000; i++) map.set(`k${i}`, i)
    expect(map.size).toBe(3)
    expect(map.delete('k9999')).toBe(true)
    expect(map.size).toBe(2)
    expect(() => new LruMap(0)).toThrow(RangeError)
  })
})
