import type { IndexBlob } from '../../repofile/IndexFile.js'

/**
 * `blobs` in the order of their offsets: `blobs` itself when they come in that order (as index files list
 * them: no copy, no sort), else a sorted copy (stable: blobs at the same offset keep their order).
 */
export function byOffset(blobs: readonly IndexBlob[]): readonly IndexBlob[] {
  for (let i = 1; i < blobs.length; i++) if (blobs[i]!.offset < blobs[i - 1]!.offset) return [...blobs].sort((a, b) => a.offset - b.offset)
  return blobs
}
