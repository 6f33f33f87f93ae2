import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashId, type IndexedRepository } from '@rustic-ts/core/internal'
import { flipByte, openCopy, twoBackups, type TwoBackups } from '../twoBackups.js'

let f: TwoBackups

beforeAll(async () => {
  f = await twoBackups()
})
afterAll(async () => f?.cleanup())

/** Every file of a snapshot: path relative to the source -> its content read back. */
async function contents(indexed: IndexedRepository, snapshot: string, src: string): Promise<Map<string, Buffer>> {
  const { node } = await indexed.resolveSnapshotPath(`${snapshot}:${src}`)
  const out = new Map<string, Buffer>()
  for await (const e of indexed.walk(node, '')) {
    if (e.node.type !== 'file') continue
    const parts: Uint8Array[] = []
    for await (const p of indexed.readFile(e.node)) parts.push(p)
    out.set(e.path.slice(1), Buffer.concat(parts))
  }
  return out
}

describe('repair snapshots', () => {
  it('plans nothing for a sound repository', async () => {
    const { repo } = await openCopy(f)
    const plan = await (await repo.toIndexed()).planRepairSnapshots()
    expect(plan.snapshots.map((s) => s.action)).toEqual(['keep', 'keep'])
    expect(plan.unreadable).toEqual([])
  })

  it('files of a missing pack lose their content; the repaired snapshot replaces the damaged one with --forget; check is clean', async () => {
    const { repo, cold } = await openCopy(f)
    await cold.remove('pack', f.lostPack, false)
    await repo.repairIndex(await repo.planRepairIndex())
    const indexed = await repo.toIndexed()
    const plan = await indexed.planRepairSnapshots({ forget: true })
    const [first, second] = plan.snapshots
    expect(first!.action).toBe('keep')
    expect(second!.action).toBe('rewrite')
    expect(second!.changes.map((c) => c.message).sort()).toEqual([
      `file "${f.src}/lost/big2.bin": removed missing content`,
      `file "${f.src}/lost/note.txt": removed missing content`,
    ])
    expect(await cold.list('snapshot')).toHaveLength(2) // planning wrote nothing

    const result = await indexed.repairSnapshots(plan)
    expect(result.removed).toEqual([f.snap2])
    const [saved] = result.saved
    expect(saved!.original).toBe(f.snap2)
    const reread = await repo.toIndexed()
    const snap = await repo.getSnapshot(saved!.id)
    expect(snap).toMatchObject({ original: f.snap2, tree: second!.newTree, tags: ['repaired'] })
    // only notes are left: the forgotten snapshot's trees are unused now (prune removes them)
    const after = await repo.check({ readData: true })
    expect(after.summary).toMatchObject({ errors: 0, warnings: 0 })
    expect(new Set(after.findings.map((x) => x.kind))).toEqual(new Set(['unusedBlob']))

    // the untouched files read back byte for byte; the damaged ones are empty now
    const files = await contents(reread, saved!.id, f.src)
    for (const [p, data] of f.files) {
      expect(hashId(files.get(p)!), p).toBe(hashId(p.startsWith('lost/') ? new Uint8Array(0) : data))
    }
    const lost = await reread.nodeAtPath(snap.tree, `${f.src}/lost/big2.bin`)
    expect(lost.content).toEqual([])
    expect(lost.size ?? 0).toBe(0)
  })

  it('a directory whose tree cannot be read becomes empty; a snapshot whose root cannot be read is removed', async () => {
    const { repo, cold } = await openCopy(f)
    const indexed = await repo.toIndexed()
    const s2 = await repo.getSnapshot(f.snap2)
    const lostDir = await indexed.nodeAtPath(s2.tree, `${f.src}/lost`)
    const loc = indexed.locate('tree', lostDir.subtree!)
    await flipByte(cold, 'pack', loc.packId, loc.offset + 20)
    const plan = await (await repo.toIndexed()).planRepairSnapshots({ snapshots: [f.snap2.slice(0, 10)], tag: 'fixed' })
    expect(plan.snapshots.map((s) => [s.action, s.changes.map((c) => c.message)])).toEqual([
      ['rewrite', [`dir "${f.src}/lost": replaced with empty directory`]],
    ])
    const result = await (await repo.toIndexed()).repairSnapshots(plan)
    expect(result.removed).toEqual([]) // kept without forget
    const repaired = await repo.getSnapshot(result.saved[0]!.id)
    expect(repaired.tags).toEqual(['fixed'])
    const dir = await (await repo.toIndexed()).nodeAtPath(repaired.tree, `${f.src}/lost`)
    expect(await (await repo.toIndexed()).getTree(dir.subtree!)).toEqual([])

    const rootLoc = (await repo.toIndexed()).locate('tree', (await repo.getSnapshot(f.snap1)).tree)
    await flipByte(cold, 'pack', rootLoc.packId, rootLoc.offset + 20)
    const again = await (await repo.toIndexed()).planRepairSnapshots({ snapshots: [f.snap1] })
    expect(again.snapshots.map((s) => [s.action, s.changes.map((c) => c.message)])).toEqual([['remove', ['dir "/": not readable']]])
    expect((await (await repo.toIndexed()).repairSnapshots(again)).removed).toEqual([f.snap1])
  })

  it('an unreadable snapshot file is reported, and removed with forget only when named', async () => {
    const { repo, cold } = await openCopy(f)
    await flipByte(cold, 'snapshot', f.snap1, 30)
    const indexed = await repo.toIndexed()
    const all = await indexed.planRepairSnapshots({ forget: true })
    expect(all.unreadable).toEqual([expect.objectContaining({ id: f.snap1, remove: false })])
    const named = await indexed.planRepairSnapshots({ forget: true, snapshots: [f.snap1] })
    expect(named.unreadable).toEqual([expect.objectContaining({ id: f.snap1, remove: true })])
    expect((await indexed.repairSnapshots(named)).removed).toEqual([f.snap1])
    expect(await cold.list('snapshot')).toEqual([f.snap2])
  })
})
