import { describe, expect, it } from 'vitest'
import { drainStack, isRusticError } from '@rustic-ts/core/internal'

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('drainStack', () => {
  it('works through pushed items last in, first out, one at a time with concurrency 1', async () => {
    const order: number[] = []
    await drainStack(
      [1],
      async (n, push) => {
        order.push(n)
        await tick()
        if (n < 4) {
          push(n * 10)
          push(n + 1)
        }
      },
      { concurrency: 1 },
    )
    expect(order).toEqual([1, 2, 3, 4, 30, 20, 10])
  })

  it('never runs more than `concurrency` items at once and resolves once all are done', async () => {
    let running = 0
    let most = 0
    let done = 0
    await drainStack(
      Array.from({ length: 20 }, (_, i) => i),
      async () => {
        most = Math.max(most, ++running)
        await tick()
        running--
        done++
      },
      { concurrency: 3 },
    )
    expect(most).toBe(3)
    expect(done).toBe(20)
  })

  it('rejects with the first failure after the running items end, and starts nothing more', async () => {
    const started: number[] = []
    let running = 0
    const run = drainStack(
      [5, 4, 3, 2, 1],
      async (n) => {
        started.push(n)
        running++
        await tick()
        running--
        if (n === 1) throw new Error('tree 1 unreadable')
        await tick()
      },
      { concurrency: 2 },
    )
    await expect(run).rejects.toThrow('tree 1 unreadable')
    expect(running).toBe(0)
    expect(started).toEqual([1, 2])
  })

  it('fails with Aborted when the signal aborts', async () => {
    const ac = new AbortController()
    let count = 0
    const run = drainStack(
      [0],
      async (n, push) => {
        count++
        if (count === 3) ac.abort()
        await tick()
        push(n + 1)
      },
      { concurrency: 1, signal: ac.signal },
    )
    await expect(run).rejects.toSatisfy((e) => isRusticError(e, 'Aborted'))
    expect(count).toBe(3)
  })
})
