import { describe, expect, it } from 'vitest'
import { CountingBackend } from '@rustic-ts/backend-testkit'
import { DryRunBackend, MemoryBackend, hashId } from '@rustic-ts/core/internal'

describe('DryRunBackend', () => {
  it('passes reads through and skips writes and removes', async () => {
    const inner = new CountingBackend(new MemoryBackend('m'))
    const existing = new Uint8Array([1, 2, 3])
    await inner.inner.writeBytes('snapshot', hashId(existing), true, existing)
    const b = new DryRunBackend(inner)
    await b.create()
    const data = new Uint8Array([4, 5])
    await b.writeBytes('pack', hashId(data), false, data)
    await b.remove('snapshot', hashId(existing), true)
    await b.remove('snapshot', hashId(data), true) // missing: still no error
    expect(inner.count('writes')).toBe(0)
    expect(inner.count('create')).toBe(0)
    expect(await b.list('pack')).toEqual([])
    expect(await b.list('snapshot')).toEqual([hashId(existing)])
    expect(await b.readFull('snapshot', hashId(existing))).toEqual(existing)
    expect(await b.readPartial('snapshot', hashId(existing), true, 1, 2)).toEqual(new Uint8Array([2, 3]))
    expect(await b.listWithSize('snapshot')).toEqual([[hashId(existing), 3]])
    expect(inner.count('reads')).toBe(2)
    expect([b.writesSkipped, b.bytesSkipped, b.removesSkipped]).toEqual([1, 2, 2])
    expect(b.location()).toBe('memory:m')
  })
})
