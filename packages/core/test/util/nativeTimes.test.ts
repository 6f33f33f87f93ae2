import { closeSync, lstatSync, lutimesSync, openSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setFdTimes, setPathTimes, timePrecision, timespecPair, utimesSeconds } from '../../src/util/nativeTimes.js'
import { tempDir } from '../commands/helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  tmp = await tempDir('rustic-ntimes-')
})
afterAll(async () => tmp?.remove())

const CASES = [1_000_000_000_123_456_789n, -305121599876543211n, -1n, 0n, 1_577_836_800_500_000_000n]

describe('nanosecond file times', () => {
  it('sets atime and mtime to the nanosecond on a path (not following a symlink) and a descriptor', () => {
    expect(timePrecision()).toBe('nanosecond')
    const f = join(tmp.path, 'f')
    const l = join(tmp.path, 'l')
    writeFileSync(f, 'x')
    symlinkSync('f', l)
    for (const ns of CASES) {
      setPathTimes(l, ns + 7n, ns)
      const st = lstatSync(l, { bigint: true })
      expect([st.atimeNs, st.mtimeNs]).toEqual([ns + 7n, ns])
      expect(lstatSync(f, { bigint: true }).mtimeNs).not.toBe(ns)
      const fd = openSync(f, 'r')
      try {
        setFdTimes(fd, ns, ns - 3n)
      } finally {
        closeSync(fd)
      }
      expect(lstatSync(f, { bigint: true }).mtimeNs).toBe(ns - 3n)
    }
    expect(() => setPathTimes(join(tmp.path, 'missing'), 0n, 0n)).toThrow(/ENOENT/)
    expect(timespecPair(-1n, 1n)).toEqual(Buffer.from([...Buffer.from('ffffffffffffffff', 'hex'), ...Buffer.from('ffc99a3b00000000', 'hex'), 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]))
  })

  it("the microsecond fallback (Node's utimes) keeps times before 1970 and the whole microsecond", () => {
    const f = join(tmp.path, 'g')
    writeFileSync(f, 'x')
    for (const ns of CASES) {
      lutimesSync(f, utimesSeconds(ns), utimesSeconds(ns))
      const floorUs = ns >= 0n || ns % 1000n === 0n ? ns / 1000n : ns / 1000n - 1n
      // libuv before 1.52 truncates to the microsecond; later ones keep the double's nanoseconds (about
      // half a microsecond past the floor that utimesSeconds aims at): the microsecond is right either way
      const got = lstatSync(f, { bigint: true }).mtimeNs
      expect(got >= 0n || got % 1000n === 0n ? got / 1000n : got / 1000n - 1n).toBe(floorUs)
    }
  })
})
