// The deterministic many-files data sets of the benchmarks (smallfiles.mjs, startup.mjs): a seeded generator
// writes the same bytes on every machine.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** xorshift32: the same sequence on every machine. */
function rng(seed) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ')

/** The many-files sets at `scale` (1: 200,000 files of 0-4 KiB in 2,000 directories; 100,000 empty files in 1,000). */
export function manyFilesSets(scale) {
  return [
    { name: 'small', files: Math.round(200_000 * scale), dirs: Math.max(1, Math.round(2_000 * scale)), maxSize: 4096 },
    { name: 'empty', files: Math.round(100_000 * scale), dirs: Math.max(1, Math.round(1_000 * scale)), maxSize: 0 },
  ]
}

/**
 * Writes `files` files in `dirs` directories (`d0000`, ...) below `root`; sizes uniform in 0..maxSize
 * (0: all empty), even-numbered files compressible text, odd ones random bytes.
 */
export function makeSet(root, files, dirs, maxSize) {
  const next = rng(0x5eed + files + maxSize)
  for (let d = 0; d < dirs; d++) mkdirSync(join(root, `d${String(d).padStart(4, '0')}`), { recursive: true })
  for (let i = 0; i < files; i++) {
    const size = maxSize === 0 ? 0 : next() % (maxSize + 1)
    const buf = Buffer.allocUnsafe(size)
    if (i % 2 === 0) {
      let p = 0
      while (p < size) p += buf.write(WORDS[next() % WORDS.length] + ' ', p)
    } else {
      for (let p = 0; p < size; p++) buf[p] = next() & 255
    }
    writeFileSync(join(root, `d${String(i % dirs).padStart(4, '0')}`, `f${i}`), buf)
  }
}
