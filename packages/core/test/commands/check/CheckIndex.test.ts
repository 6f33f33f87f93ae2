import { describe, expect, it } from 'vitest'
import { DecryptBackend, Key, MemoryBackend, NO_PROGRESS, randomId, serializeIndex, type IndexBlob, type IndexPack } from '@rustic-ts/core/internal'
import { FindingCollector } from '../../../src/commands/check/CheckFinding.js'
import { loadCheckIndex } from '../../../src/commands/check/CheckIndex.js'

const blob = (type: 'data' | 'tree', offset: number, length = 100): IndexBlob => ({ id: randomId(), type, offset, length })
const pack = (...blobs: IndexBlob[]): IndexPack => ({ id: randomId(), blobs })

async function load(files: Array<{ packs: IndexPack[]; packsToDelete?: IndexPack[] }>, damage = false) {
  const dbe = new DecryptBackend(new MemoryBackend(), Key.random(), 2, 3)
  const ids = []
  for (const f of files) ids.push(await dbe.saveFile('index', serializeIndex(f)))
  if (damage) await dbe.backend.writeBytes('index', ids[0]!, false, new Uint8Array(40))
  const findings = new FindingCollector()
  const index = await loadCheckIndex(dbe, ids, findings, { concurrency: 2, progress: NO_PROGRESS })
  return { index, findings: findings.findings, ids }
}

describe('loadCheckIndex', () => {
  it('a sound index: every pack with its size, no findings', async () => {
    const p = pack(blob('data', 0, 1000), blob('data', 1000, 50))
    const { index, findings } = await load([{ packs: [p] }])
    expect(findings).toEqual([])
    expect(index.packs.get(p.id)).toMatchObject({ type: 'data', size: 1050 + 2 * 37 + 32 + 4, toDelete: false })
    expect(index.blobs.get('data', p.blobs[1]!.id)).toMatchObject({ packId: p.id, offset: 1000 })
  })

  it('notes packs in several index files, mixed packs, duplicate blobs, overlaps, undated deletions and unreadable files', async () => {
    const twice = pack(blob('data', 0))
    const mixed = pack(blob('data', 0), blob('tree', 100))
    const overlap = pack(blob('data', 0), blob('data', 50))
    const copy = pack({ ...twice.blobs[0]!, offset: 0 })
    const marked = pack(blob('tree', 0))
    const { findings, ids } = await load([{ packs: [] }, { packs: [twice, mixed, overlap] }, { packs: [twice, copy], packsToDelete: [marked] }], true)
    const got = findings.map((f) => [f.kind, f.level, f.file?.id ?? f.blob?.id])
    expect(got).toEqual([
      ['indexDamaged', 'error', ids[0]],
      ['packInSeveralIndexes', 'warning', twice.id],
      ['mixedPack', 'warning', mixed.id],
      ['indexOverlap', 'error', overlap.id],
      ['indexTimeMissing', 'warning', marked.id],
      ['duplicateBlob', 'info', twice.blobs[0]!.id],
    ])
    expect(findings[1]!.message).toBe(`pack ${twice.id} contained in several indexes: {${ids[1]} ${ids[2]}}`)
    expect(findings[5]!.message).toContain(`${twice.id}, ${copy.id}`)
  })
})
