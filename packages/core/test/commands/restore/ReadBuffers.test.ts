import { describe, expect, it } from 'vitest'
import { ReadBuffers } from '../../../src/commands/restore/ReadBuffers.js'

const MiB = 1 << 20

describe('ReadBuffers', () => {
  it('lends whole shared buffers in 1 MiB steps and lends a given-back buffer again, the smallest that fits', () => {
    const pool = new ReadBuffers(16 * MiB)
    const a = pool.take(100)!
    expect(a.byteLength).toBe(MiB)
    expect(a.byteOffset).toBe(0)
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(a.buffer.byteLength).toBe(MiB)
    const b = pool.take(3 * MiB + 1)!
    expect(b.byteLength).toBe(4 * MiB)
    pool.give(b.buffer)
    pool.give(a.buffer)
    expect(pool.take(10)!.buffer).toBe(a.buffer)
    expect(pool.take(2 * MiB)!.buffer).toBe(b.buffer)
  })

  it('holds at most its limit in buffers, lent or free: no room gives undefined', () => {
    const pool = new ReadBuffers(8 * MiB)
    const a = pool.take(5 * MiB)!
    expect(pool.take(4 * MiB)).toBeUndefined() // 5 + 4 > 8, and a is lent
    const c = pool.take(2 * MiB)!
    expect(c.byteLength).toBe(2 * MiB)
    pool.give(a.buffer)
    // a (5 MiB, free) is too small for 6 MiB: it is dropped to make room
    const d = pool.take(6 * MiB)
    expect(d?.byteLength).toBe(6 * MiB)
    expect(pool.take(MiB)).toBeUndefined() // 2 + 6 lent
    pool.give(d!.buffer)
    const e = pool.take(MiB)!
    expect(e.buffer).toBe(d!.buffer) // the smallest free one that fits
    pool.give(e.buffer)
    pool.give(c.buffer)
    pool.clear()
    expect(pool.take(8 * MiB)?.byteLength).toBe(8 * MiB) // (all dropped)
  })
})
