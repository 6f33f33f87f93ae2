import { describe, expect, it } from 'vitest'
import { CountingBackend } from '@rustic-ts/backend-testkit'
import { CONFIG_ID, HotColdBackend, MemoryBackend, hashId } from '@rustic-ts/core/internal'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

function setup() {
  const cold = new CountingBackend(new MemoryBackend('cold'))
  const hot = new CountingBackend(new MemoryBackend('hot'))
  return { cold, hot, b: new HotColdBackend(cold, hot) }
}

describe('HotColdBackend', () => {
  it('writes metadata and tree packs to both, config and data packs to cold only', async () => {
    const { cold, hot, b } = setup()
    await b.create()
    expect([cold.count('create'), hot.count('create')]).toEqual([1, 1])
    const tree = bytes('tree pack')
    const data = bytes('data pack')
    await b.writeBytes('config', CONFIG_ID, true, bytes('cfg'))
    for (const t of ['key', 'snapshot', 'index'] as const) await b.writeBytes(t, hashId(bytes(t)), true, bytes(t))
    await b.writeBytes('pack', hashId(tree), true, tree)
    await b.writeBytes('pack', hashId(data), false, data)
    expect(await cold.list('pack')).toHaveLength(2)
    expect(await hot.inner.list('pack')).toEqual([hashId(tree)])
    expect(await hot.inner.list('config')).toEqual([])
    for (const t of ['key', 'snapshot', 'index'] as const) expect(await hot.inner.list(t)).toHaveLength(1)
    expect(cold.count('writeBytes')).toBe(6)
    expect(hot.count('writeBytes')).toBe(4)
  })

  it('reads from hot except data-pack ranges; lists from cold', async () => {
    const { cold, hot, b } = setup()
    const tree = bytes('tree pack contents')
    const data = bytes('data pack contents')
    await b.writeBytes('pack', hashId(tree), true, tree)
    await b.writeBytes('pack', hashId(data), false, data)
    await b.writeBytes('snapshot', hashId(bytes('s')), true, bytes('s'))
    cold.reset()
    hot.reset()
    expect(new TextDecoder().decode(await b.readPartial('pack', hashId(tree), true, 0, 4))).toBe('tree')
    expect(await b.readFull('snapshot', hashId(bytes('s')))).toEqual(bytes('s'))
    expect(await b.readPartial('snapshot', hashId(bytes('s')), false, 0, 1)).toEqual(bytes('s'))
    expect(cold.count('reads')).toBe(0)
    expect(hot.count('reads')).toBe(3)
    expect(new TextDecoder().decode(await b.readPartial('pack', hashId(data), false, 5, 4))).toBe('pack')
    expect(cold.count('readPartial', 'pack')).toBe(1)
    await b.list('pack')
    await b.listWithSize('snapshot')
    expect(cold.count('list') + cold.count('listWithSize')).toBe(2)
    expect(hot.count('list') + hot.count('listWithSize')).toBe(0)
    expect(b.location()).toBe('memory:cold')
  })

  it('removes from cold first, then from hot unless a data pack', async () => {
    const { cold, hot, b } = setup()
    const tree = bytes('t')
    const data = bytes('d')
    await b.writeBytes('pack', hashId(tree), true, tree)
    await b.writeBytes('pack', hashId(data), false, data)
    const order: string[] = []
    const log = (name: string, be: CountingBackend) => {
      const orig = be.remove.bind(be)
      be.remove = async (...args) => {
        order.push(name)
        return orig(...args)
      }
    }
    log('cold', cold)
    log('hot', hot)
    await b.remove('pack', hashId(tree), true)
    await b.remove('pack', hashId(data), false)
    expect(order).toEqual(['cold', 'hot', 'cold'])
    expect(await cold.list('pack')).toEqual([])
    expect(await hot.list('pack')).toEqual([])
  })
})
