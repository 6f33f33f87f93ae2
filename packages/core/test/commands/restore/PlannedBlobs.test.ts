import { describe, expect, it } from 'vitest'
import type { Id } from '../../../src/id/Id.js'
import { MAX_READ_BLOBS, PlannedBlobs } from '../../../src/commands/restore/PlannedBlobs.js'

const id = (n: number): Id => n.toString(16).padStart(64, '0') as Id
const p1 = id(0xa1)
const p2 = id(0xa2)

describe('PlannedBlobs', () => {
  it('holds each blob once, its targets in the order added, and builds reads grouped by pack in first-need order', () => {
    const blobs = new PlannedBlobs()
    const b1 = blobs.add(id(1), { packId: p2, offset: 0, length: 100 }, 68)
    const b2 = blobs.add(id(2), { packId: p1, offset: 5000, length: 100, uncompressedLength: 500 }, 500)
    const b3 = blobs.add(id(3), { packId: p1, offset: 0, length: 100 }, 68)
    expect(blobs.indexOf(id(2))).toBe(b2)
    expect(blobs.indexOf(id(4))).toBe(-1)
    blobs.addTarget(b2, 0, 0)
    blobs.addTarget(b1, 1, 0)
    blobs.addTarget(b2, 2, 4096)
    blobs.addTarget(b3, 1, 68)
    expect([blobs.size, blobs.packs]).toEqual([3, 2])

    const reads = blobs.build({ maxReadGap: 100, maxReadSize: 10_000 })
    expect(reads.length).toBe(3)
    expect(reads.blobCount).toBe(3)
    expect([...reads]).toEqual([
      { packId: p2, offset: 0, length: 100, blobs: [{ id: id(1), offset: 0, length: 100, dataLength: 68, targets: [{ file: 1, offset: 0 }] }] },
      { packId: p1, offset: 0, length: 100, blobs: [{ id: id(3), offset: 0, length: 100, dataLength: 68, targets: [{ file: 1, offset: 68 }] }] },
      {
        packId: p1,
        offset: 5000,
        length: 100,
        blobs: [{ id: id(2), offset: 5000, length: 100, uncompressedLength: 500, dataLength: 500, targets: [{ file: 0, offset: 0 }, { file: 2, offset: 4096 }] }],
      },
    ])
    expect([reads.firstBlob(2), reads.firstBlob(3), reads.firstTarget(2), reads.firstTarget(3)]).toEqual([2, 3, 2, 4])
    expect(() => reads.at(3)).toThrow(RangeError)
  })

  it('finds every one of many ids after the table grows, and cuts reads at MAX_READ_BLOBS blobs', () => {
    const blobs = new PlannedBlobs()
    const n = 3 * MAX_READ_BLOBS + 5
    for (let i = 0; i < n; i++) blobs.addTarget(blobs.add(id(1_000_000 + i * 7919), { packId: p1, offset: i * 10, length: 10 }, 1), i, 0)
    for (let i = 0; i < n; i++) expect(blobs.indexOf(id(1_000_000 + i * 7919))).toBe(i)
    const reads = blobs.build({ maxReadGap: 0, maxReadSize: 1 << 30 })
    expect(reads.length).toBe(4)
    expect([0, 1, 2, 3, 4].map((r) => reads.firstBlob(r))).toEqual([0, MAX_READ_BLOBS, 2 * MAX_READ_BLOBS, 3 * MAX_READ_BLOBS, n])
    expect(reads.blobId(n - 1)).toBe(id(1_000_000 + (n - 1) * 7919))
    expect(reads.targetFile(reads.firstTarget(n - 1))).toBe(n - 1)
  })

  it('gives an overlapping blob a read of its own', () => {
    const blobs = new PlannedBlobs()
    blobs.add(id(1), { packId: p1, offset: 0, length: 100 }, 68)
    blobs.add(id(2), { packId: p1, offset: 50, length: 100 }, 68)
    const reads = blobs.build({ maxReadGap: 100, maxReadSize: 10_000 })
    expect([...reads].map((r) => [r.offset, r.length])).toEqual([
      [0, 100],
      [50, 100],
    ])
  })
})
