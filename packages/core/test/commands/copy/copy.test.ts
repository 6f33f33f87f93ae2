import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isRusticError, MemoryBackend, Repository, snapshotsToCopy } from '@rustic-ts/core/internal'
import { filesOf, memoryRepo, snapshotOf } from '../memorySnapshots.js'

describe('copy', () => {
  it('copies snapshots into a repository with another key, polynomial and version; a second copy copies nothing', async () => {
    const src = await memoryRepo(2, 'source-pw')
    const big = randomBytes(1_500_000)
    const a = await snapshotOf(src, { 'x/big.bin': { data: big }, 'x/small.txt': { data: 'small' } }, { time: 1_700_000_100 })
    const b = await snapshotOf(src, { 'x/big.bin': { data: big }, 'y.txt': { data: 'why' } }, { time: 1_700_000_200, host: 'host-b' })
    const dstBackend = new MemoryBackend()
    const dst = await memoryRepo(1, 'target-pw', dstBackend)
    expect(dst.repo.config.chunkerPolynomial).not.toBe(src.repo.config.chunkerPolynomial)

    const plan = await src.planCopy(dst)
    expect(snapshotsToCopy(plan).map((s) => s.id)).toEqual([a.id, b.id])
    const result = await src.copy(plan)
    expect(result.copied.map((c) => c.source.id)).toEqual([a.id, b.id])
    expect(result.skipped).toEqual([])
    // big.bin's blobs are copied once: same data blob ids (not chunked again)
    expect(result.data.blobs).toBe(src.index.count('data'))

    const reopened = await (await Repository.open({}, { repository: dstBackend }, { password: 'target-pw' })).toIndexed()
    const copies = await reopened.repo.getSnapshots()
    expect(copies.map((s) => [s.tree, s.hostname, s.original, s.parent])).toEqual([
      [a.tree, 'host-a', a.id, undefined],
      [b.tree, 'host-b', b.id, undefined],
    ])
    expect(await filesOf(reopened, copies[0]!)).toEqual(await filesOf(src, a))
    expect(await filesOf(reopened, copies[1]!)).toEqual(await filesOf(src, b))

    const again = await src.planCopy(reopened)
    expect(again.snapshots.map((s) => s.existing?.id)).toEqual(copies.map((s) => s.id))
    const second = await src.copy(again)
    expect(second.copied).toEqual([])
    expect(second.data.blobs + second.trees.blobs).toBe(0)
    expect(await reopened.repo.snapshotIds()).toHaveLength(2)
  })

  it('selects by id and filter, and skips blobs the target has', async () => {
    const src = await memoryRepo(2, 'pw')
    const shared = randomBytes(200_000)
    const a = await snapshotOf(src, { 'f.bin': { data: shared } }, { host: 'one' })
    await snapshotOf(src, { 'g.bin': { data: shared }, 'h.txt': { data: 'h' } }, { host: 'two', time: 1_700_000_300 })
    const dst = await memoryRepo(2, 'pw2')
    const first = await src.copy(await src.planCopy(dst, { snapshots: [a.id!.slice(0, 8)] }))
    expect(first.copied).toHaveLength(1)
    expect(first.data.blobs).toBe(1)
    const second = await src.copy(await src.planCopy(dst, { filter: { hosts: ['two'] } }))
    expect(second.copied.map((c) => c.source.hostname)).toEqual(['two'])
    expect(second.data.blobs).toBe(1) // only h.txt: the shared blob is in the target already
  })

  it('refuses to copy a repository into itself and a plan of another source', async () => {
    const src = await memoryRepo(2, 'pw')
    const other = await memoryRepo(2, 'pw')
    const err = await src.planCopy(src).catch((e: unknown) => e)
    expect(isRusticError(err, 'SameRepository')).toBe(true)
    const plan = await other.planCopy(await memoryRepo(2, 'pw'))
    expect(isRusticError(await src.copy(plan).catch((e: unknown) => e), 'InvalidArgument')).toBe(true)
  })
})
