import { describe, expect, it } from 'vitest'
import { GatedBackend, MemoryBackend, hashId, isRusticError } from '@rustic-ts/core/internal'

const settled = async (p: Promise<unknown>): Promise<string> => {
  let state = 'pending'
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  )
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  return state
}

describe('GatedBackend', () => {
  it('reads at once; writes, removals and writers wait for open()', async () => {
    const inner = new MemoryBackend('m')
    const old = new Uint8Array([1, 2, 3])
    await inner.writeBytes('snapshot', hashId(old), true, old)
    const b = new GatedBackend(inner)
    expect(await b.readFull('snapshot', hashId(old))).toEqual(old)
    expect(await b.list('snapshot')).toEqual([hashId(old)])
    const data = new Uint8Array([4, 5])
    const write = b.writeBytes('pack', hashId(data), false, data)
    const remove = b.remove('snapshot', hashId(old), true)
    const stale = b.removeStaleTempFiles(0)
    expect(await settled(write)).toBe('pending')
    expect(await settled(remove)).toBe('pending')
    expect(await settled(stale)).toBe('pending')
    expect(await inner.list('pack')).toEqual([])
    b.open()
    await Promise.all([write, remove, stale])
    expect(await inner.list('pack')).toEqual([hashId(data)])
    expect(await inner.list('snapshot')).toEqual([])
    await b.writeBytes('index', hashId(old), true, old) // once open, at once
    expect(await inner.list('index')).toEqual([hashId(old)])
  })

  it('fails waiting and later writes with the reason given to fail(); a write also stops when its signal aborts', async () => {
    const inner = new MemoryBackend('m')
    const b = new GatedBackend(inner)
    const data = new Uint8Array([7])
    const ac = new AbortController()
    const aborted = b.writeBytes('pack', hashId(data), false, data, { signal: ac.signal })
    const waiting = b.writeBytes('pack', hashId(data), false, data)
    ac.abort()
    expect(isRusticError(await aborted.catch((e: unknown) => e), 'Aborted')).toBe(true)
    const reason = new Error('the lock was not taken')
    b.fail(reason)
    await expect(waiting).rejects.toBe(reason)
    await expect(b.create()).rejects.toBe(reason)
    expect(await inner.list('pack')).toEqual([])
  })
})
