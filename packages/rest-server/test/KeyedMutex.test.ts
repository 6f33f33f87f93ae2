import { describe, expect, it } from 'vitest'
import { KeyedMutex } from '../src/KeyedMutex.js'

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5))

describe('KeyedMutex', () => {
  it('runs tasks of one key one at a time, in order, and of other keys concurrently', async () => {
    const m = new KeyedMutex()
    const events: string[] = []
    const task = (name: string) => async (): Promise<string> => {
      events.push(`start ${name}`)
      await tick()
      events.push(`end ${name}`)
      return name
    }
    const results = await Promise.all([m.run('a', task('a1')), m.run('a', task('a2')), m.run('b', task('b1'))])
    expect(results).toEqual(['a1', 'a2', 'b1'])
    expect(events.indexOf('end a1')).toBeLessThan(events.indexOf('start a2'))
    expect(events.indexOf('start b1')).toBeLessThan(events.indexOf('end a1'))
  })

  it('goes on after a task that failed', async () => {
    const m = new KeyedMutex()
    const failed = m.run('k', async () => {
      throw new Error('boom')
    })
    const next = m.run('k', async () => 'ok')
    await expect(failed).rejects.toThrow('boom')
    expect(await next).toBe('ok')
  })
})
