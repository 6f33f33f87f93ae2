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
})
