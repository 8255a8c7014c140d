// A bounded least-recently-used map (lru-cache) that is built on its first write. lru-cache's
// constructor allocates its arrays for `max` entries at once, which every process start paid
// for the token cache and the connection handles even when it never kept anything; a read of a
// never-written map answers as an empty one does.
import { LRUCache } from 'lru-cache'

export class LazyLru<K extends {}, V extends {}> {
  private built: LRUCache<K, V> | undefined

  constructor(private readonly max: number) {}

  get size(): number {
    return this.built?.size ?? 0
  }

  get(key: K): V | undefined {
    return this.built?.get(key)
  }

  /** The value without counting it as a use. */
  peek(key: K): V | undefined {
    return this.built?.peek(key)
  }

  has(key: K): boolean {
    return this.built?.has(key) ?? false
  }

  set(key: K, value: V): void {
    this.built ??= new LRUCache<K, V>({ max: this.max })
    this.built.set(key, value)
  }

  delete(key: K): boolean {
    return this.built?.delete(key) ?? false
  }

  clear(): void {
    this.built?.clear()
  }
}
