// Random bytes from the OS CSPRNG, drawn 4 KiB at a time (as `crypto.randomUUID` does): one
// `randomBytes` call per small draw cost more than the work it served (an AES-GCM IV per seal, an
// audit id per token handed out). The pool is refilled, never rewound, so no byte is handed out twice.
import { randomFillSync } from 'node:crypto'

const pool = Buffer.alloc(4096)
let at = pool.length

/** Where `size` unused random bytes start in the pool (refilled when too few are left). */
function reserve(size: number): number {
  if (at + size > pool.length) {
    randomFillSync(pool)
    at = 0
  }
  const start = at
  at += size
  return start
}

/** `size` fresh random bytes (at most 4096), in a buffer of their own. */
export function randomFromPool(size: number): Buffer {
  const start = reserve(size)
  return Buffer.from(pool.subarray(start, start + size))
}

/** A fresh random 32-bit unsigned integer. */
export function randomUint32FromPool(): number {
  return pool.readUInt32BE(reserve(4))
}
