import { describe, expect, it } from 'vitest'
import { isRusticError, serializeIndex, type Id, type PrunePlan } from '@rustic-ts/core/internal'
import { backupFiles, indexFiles, randomFiles, smallPackRepo } from './helpers.js'
import { plantLock } from '../../repository/lock/helpers.js'

const actions = (plan: PrunePlan, ids: Iterable<Id>): string[] => [...ids].map((id) => plan.packs.find((p) => p.id === id)?.action ?? 'absent')

/** Packs whose blobs are all in `files` of a snapshot, by the index before any prune. */
async function packsOf(repo: Awaited<ReturnType<typeof smallPackRepo>>['repo']): Promise<Set<Id>> {
  return new Set((await indexFiles(repo)).flatMap((f) => f.file.packs.map((p) => p.id)))
}

describe('planPrune options', () => {
  it('are read into the plan, and invalid ones refused before anything is read', async () => {
    const { repo } = await smallPackRepo()
    const plan = await repo.planPrune({ keepDelete: '1h30m', maxRepack: '20%' })
    expect(plan.options).toMatchObject({ maxUnused: { kind: 'percent', percent: 5 }, maxRepack: { kind: 'percent', percent: 20 }, keepDelete: 90 * 60_000 })
    const err = await repo.planPrune({ maxUnused: '100%' }).catch((e: unknown) => e)
    expect(isRusticError(err, 'InvalidOptions'), String(err)).toBe(true)
    expect((err as Error).message).toMatch(/^invalid prune options: maxUnused: /)
  })

  it('refuses repackUncompressed in a version 1 repository', async () => {
    const { repo } = await smallPackRepo(undefined, 1)
    const err = await repo.planPrune({ repackUncompressed: true }).catch((e: unknown) => e)
    expect(isRusticError(err, 'Unsupported')).toBe(true)
  })
})

describe('planPrune', () => {
  it('keeps the packs of kept snapshots and marks those only removed snapshots used', async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 8))
    const aPacks = await packsOf(repo)
    const keep = await backupFiles(repo, randomFiles('b', 8))
    const bPacks = new Set([...(await packsOf(repo))].filter((id) => !aPacks.has(id)))
    const untouched = await repo.planPrune()
    expect(untouched.stats.totals.unused).toBe(0)
    expect(untouched.packs.every((p) => p.action === 'keep')).toBe(true)
    // nothing to remove, but the two small index files of the backups are merged into one (as rustic does)
    expect(untouched.rewriteIndexFiles).toHaveLength(2)

    await repo.deleteSnapshots((await repo.snapshotIds()).filter((id) => id !== keep))
    const plan = await repo.planPrune()
    expect(plan.snapshots).toEqual([keep])
    expect(actions(plan, aPacks).every((a) => a === 'markDelete')).toBe(true)
    expect(actions(plan, bPacks).every((a) => a === 'keep')).toBe(true)
    expect(plan.stats.packsByUse.unused).toBe(aPacks.size)
    expect(plan.stats.actions.markDelete.packs).toBe(aPacks.size)
    expect(plan.stats.blobs.data.remove).toBe(8)
    expect(plan.stats.totals.remove).toBe(plan.stats.totals.unused)
    expect(plan.stats.totals.unusedAfter).toBe(0)
    expect(plan.stats.totals.remaining).toBe(plan.stats.totals.used)
    expect(plan.rewriteIndexFiles.length).toBeGreaterThan(0)
    expect(plan.packs.filter((p) => p.action === 'markDelete').every((p) => p.status.includes('hasUnusedBlobs') && !p.status.includes('hasUsedBlobs'))).toBe(true)

    const instant = await repo.planPrune({ instantDelete: true })
    expect(actions(instant, aPacks).every((a) => a === 'delete')).toBe(true)
  })

  it('repacks a partly used pack once more than maxUnused would stay unused; keeps it within the limit', async () => {
    const { repo } = await smallPackRepo()
    const shared = randomFiles('s', 2)
    const gone = randomFiles('g', 1)
    await backupFiles(repo, { ...shared, ...gone }) // one data pack: 3 blobs of 20 kB
    const keep = await backupFiles(repo, shared)
    await repo.deleteSnapshots((await repo.snapshotIds()).filter((id) => id !== keep))
    const tolerant = await repo.planPrune({ maxUnused: '50%' })
    const data = tolerant.packs.find((p) => p.blobType === 'data')!
    expect([data.usedBlobs, data.unusedBlobs, data.action]).toEqual([2, 1, 'keep'])
    expect(tolerant.packs.filter((p) => p.action === 'repack' && p.blobType === 'data')).toEqual([])

    const strict = await repo.planPrune({ maxUnused: 0, maxRepack: 'unlimited' })
    const repacked = strict.packs.find((p) => p.id === data.id)!
    expect(repacked.action).toBe('repack')
    expect(repacked.copy!.map((b) => b.id).sort()).toEqual(repacked.blobs.filter((b) => b.length > 0).map((b) => b.id).filter((id) => repacked.copy!.some((c) => c.id === id)).sort())
    expect(repacked.copy).toHaveLength(2)
    expect(strict.stats.blobs.data.repackRemove).toBe(1)
    expect(strict.stats.totals.unusedAfter).toBe(0)

    // maxRepack caps what is repacked (rustic's default: 10% of the repository, less than this pack's used data)
    for (const maxRepack of [1000, undefined]) {
      const capped = await repo.planPrune({ maxUnused: 0, maxRepack })
      expect(capped.packs.find((p) => p.id === data.id)!.action).toBe('keep')
    }
  })

  it('keeps packs younger than keepPack, and repacks everything with repackAll', async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 6))
    const keep = await backupFiles(repo, randomFiles('b', 6))
    await repo.deleteSnapshots((await repo.snapshotIds()).filter((id) => id !== keep))
    const young = await repo.planPrune({ keepPack: '1h' })
    expect(young.packs.every((p) => p.action === 'keep' && p.status.includes('tooYoung'))).toBe(true)
    const all = await repo.planPrune({ repackAll: true, maxRepack: 'unlimited' })
    expect(all.packs.filter((p) => p.usedBlobs > 0).every((p) => p.action === 'repack')).toBe(true)
    expect(all.packs.filter((p) => p.usedBlobs === 0).every((p) => p.action === 'markDelete')).toBe(true)
  })

  it('marks a pack no index names, and deletes it with instantDelete', async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 2))
    const orphan = new Uint8Array([1, 2, 3, 4, 5])
    const orphanId = (await import('@rustic-ts/core')).hashId(orphan)
    await repo.backend.writeBytes('pack', orphanId, false, orphan)
    const plan = await repo.planPrune()
    const p = plan.packs.find((x) => x.id === orphanId)!
    expect(p).toMatchObject({ action: 'markDelete', status: ['unindexed'], indexFile: undefined, size: 5, blobType: undefined })
    expect(plan.stats.unindexed).toEqual({ packs: 1, bytes: 5 })
    expect(plan.stats.totals.unindexed).toBe(5)
    expect((await repo.planPrune({ instantDelete: true })).packs.find((x) => x.id === orphanId)!.action).toBe('delete')
  })

  it('lists a pack named twice once and rewrites the index file with the second entry', async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 2))
    const [first] = await indexFiles(repo)
    const copy = await repo.dbe.saveFile('index', serializeIndex({ packs: first!.file.packs.slice(0, 1) }))
    const plan = await repo.planPrune()
    expect(new Set(plan.packs.map((p) => p.id)).size).toBe(plan.packs.length)
    expect(plan.rewriteIndexFiles).toContain(first!.id < copy ? copy : first!.id)
    expect(plan.stats.indexFiles.total).toBe(2)
  })

  it('fails with BlobNotFound, changing nothing, when a needed blob is in no index file', async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 3))
    const [f] = await indexFiles(repo)
    const dataPack = f!.file.packs.find((p) => p.blobs[0]!.type === 'data')!
    await repo.dbe.saveFile('index', serializeIndex({ packs: f!.file.packs.filter((p) => p !== dataPack) }))
    await repo.backend.remove('index', f!.id, true)
    const err = await repo.planPrune().catch((e: unknown) => e)
    expect(isRusticError(err, 'BlobNotFound'), String(err)).toBe(true)
    expect((err as Error).message).toMatch(/^3 blob\(s\) that snapshots need are in no index file \(data blob [0-9a-f]{64}, /)
  })

  it('fails with PackNotFound when a needed pack file is gone', async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 3))
    const [f] = await indexFiles(repo)
    const dataPack = f!.file.packs.find((p) => p.blobs[0]!.type === 'data')!
    await repo.backend.remove('pack', dataPack.id, false)
    const err = await repo.planPrune().catch((e: unknown) => e)
    expect(isRusticError(err, 'PackNotFound'), String(err)).toBe(true)
    expect((err as Error).message).toContain(`pack ${dataPack.id}`)
  })

  it("refuses, naming the lock, while another client holds one; ignoreLocks plans anyway", async () => {
    const { repo } = await smallPackRepo()
    await backupFiles(repo, randomFiles('a', 1))
    await plantLock(repo, { hostname: 'backup-host', pid: 777 })
    const err = await repo.planPrune().catch((e: unknown) => e)
    expect(isRusticError(err, 'RepositoryLocked'), String(err)).toBe(true)
    expect((err as Error).message).toMatch(/cannot take an exclusive lock on .*: it is locked by a shared lock of PID 777 on host "backup-host"/)
    const plan = await repo.planPrune({ ignoreLocks: true })
    expect(plan.packs.length).toBeGreaterThan(0)
    expect(await repo.backend.list('lock')).toHaveLength(1) // ours was never written
  })
})
