import { describe, expect, it } from 'vitest'
import { ByteBudget } from '@rustic-ts/core/internal'

describe('ByteBudget', () => {
  it('holds requests until they fit, in order, and lets an oversized one through alone', async () => {
    const b = new ByteBudget(100)
    const order: string[] = []
    await b.acquire(60)
    const second = b.acquire(50).then(() => order.push('second'))
    const third = b.acquire(10).then(() => order.push('third')) // fits, but waits its turn
    await Promise.resolve()
    expect(order).toEqual([])
    b.release(60)
    await Promise.all([second, third])
    expect(order).toEqual(['second', 'third'])
    expect(b.inUse).toBe(60)
    const huge = b.acquire(500).then(() => order.push('huge'))
    b.release(50)
    await Promise.resolve()
    expect(order).toHaveLength(2)
    b.release(10)
    await huge
    expect(b.inUse).toBe(500)
  })

  it('resize: a larger budget lets waiting requests in at once; a smaller one keeps what is held', async () => {
    const b = new ByteBudget(100)
    await b.acquire(80)
    let got = false
    const waiting = b.acquire(50).then(() => (got = true))
    await Promise.resolve()
    expect(got).toBe(false)
    b.resize(200)
    await waiting
    expect([b.max, b.inUse]).toEqual([200, 130])
    b.resize(100)
    expect(b.inUse).toBe(130)
    let next = false
    const later = b.acquire(30).then(() => (next = true))
    b.release(50)
    await Promise.resolve()
    expect(next).toBe(false) // 80 + 30 > 100
    b.release(20)
    await later
    expect(b.inUse).toBe(90)
  })
})
