import { polynomialDegree, polynomialMod } from '../../src/chunker/index.js'

/** One chunk as the reference finds it. */
export interface RefChunk {
  start: number
  length: number
  cut: bigint
}

/**
 * A slow, literal BigInt rendering of restic's chunker (RESTIC_FORMAT.md §11): ring window,
 * `out`/`mod` tables exactly as restic builds them, xor of `out` before the shift. Used to check the
 * fast implementation on many small cases.
 */
export function referenceChunks(
  data: Uint8Array,
  pol: bigint,
  minSize: number,
  maxSize: number,
  averageBits: number,
): RefChunk[] {
  const k = polynomialDegree(pol)
  const shift = BigInt(k - 8)
  const out: bigint[] = []
  const mod: bigint[] = []
  for (let b = 0; b < 256; b++) {
    let h = polynomialMod(BigInt(b), pol)
    for (let i = 0; i < 63; i++) h = polynomialMod(h << 8n, pol)
    out.push(h)
    mod.push(polynomialMod(BigInt(b) << BigInt(k), pol) | (BigInt(b) << BigInt(k)))
  }
  const mask = (1n << BigInt(averageBits)) - 1n
  const win = new Uint8Array(64)
  let wpos = 0
  let d = 0n
  const slide = (b: number): void => {
    d ^= out[win[wpos]!]!
    win[wpos] = b
    wpos = (wpos + 1) % 64
    const idx = Number(d >> shift)
    d = ((d << 8n) | BigInt(b)) ^ mod[idx]!
  }
  const reset = (): void => {
    win.fill(0)
    wpos = 0
    d = 0n
    slide(1)
  }
  const chunks: RefChunk[] = []
  let start = 0
  let count = 0
  reset()
  for (let i = 0; i < data.length; i++) {
    count++
    if (count <= minSize - 64) continue
    slide(data[i]!)
    if (count >= minSize && ((d & mask) === 0n || count >= maxSize)) {
      chunks.push({ start, length: count, cut: d })
      start = i + 1
      count = 0
      reset()
    }
  }
  if (count > 0) chunks.push({ start, length: count, cut: d })
  return chunks
}
