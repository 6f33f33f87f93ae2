import { describe, expect, it } from 'vitest'
import { blobRuns } from '@rustic-ts/core/internal'

const at = (offset: number, length: number): { offset: number; length: number } => ({ offset, length })
const runs = (blobs: Array<{ offset: number; length: number }>, maxGap: number, maxRead: number): number[][] =>
  blobRuns(blobs, (b) => b, maxGap, maxRead).map((r) => r.map((b) => b.offset))

describe('blobRuns', () => {
  it('joins neighbours across gaps up to maxGap, and splits at a larger gap', () => {
    expect(runs([at(0, 10), at(10, 10), at(25, 5), at(100, 5)], 5, 1000)).toEqual([[0, 10, 25], [100]])
  })

  it('keeps a run within maxRead bytes, a larger blob being a run of its own', () => {
    expect(runs([at(0, 40), at(40, 40), at(80, 500), at(580, 10)], 0, 100)).toEqual([[0, 40], [80], [580]])
  })

  it('starts a new run at a blob overlapping the one before, and gives nothing for no blobs', () => {
    expect(runs([at(0, 10), at(5, 10)], 100, 100)).toEqual([[0], [5]])
    expect(runs([], 1, 1)).toEqual([])
  })
})
