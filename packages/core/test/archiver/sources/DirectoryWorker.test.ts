import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DirectoryListing, type EntryStats } from '../../../src/archiver/sources/DirectoryListing.js'
import { acquireDirectoryWorker, DirectoryWorker, prestartDirectoryWorker, releaseDirectoryWorker } from '../../../src/archiver/sources/DirectoryWorker.js'
import { dirWithUnstatableName, LATIN1_NAME } from './helpers.js'
import { pySetXattr, xattr, xattrsUnsupported } from './xattrHelpers.js'

const bin = (b: Buffer): string => b.toString('latin1')
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Odd names: invalid UTF-8, a lone continuation byte, a newline, a backslash, upper/lower case, multi-byte UTF-8. */
const ODD = [
  Buffer.from([0xff]),
  Buffer.from([0x80, 0x80]),
  Buffer.from([0xc3]),
  Buffer.from('é'),
  Buffer.from('a\nb'),
  Buffer.from('\\'),
  Buffer.from('B'),
  Buffer.from('a'),
  Buffer.from(' lead'),
  Buffer.from('日本'),
  Buffer.from('\x01ctl'),
]

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-dirworker-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'atimeNs', 'mtimeNs', 'ctimeNs'] as const
const TYPES = ['isFile', 'isDirectory', 'isSymbolicLink', 'isSocket', 'isFIFO', 'isCharacterDevice', 'isBlockDevice'] as const

/** The fields a listing keeps, as a plain record (atime left out for symlinks: reading one after its lstat may update it). */
function record(st: EntryStats): Record<string, unknown> {
  const r: Record<string, unknown> = {}
  for (const k of FIELDS) if (k !== 'atimeNs' || !st.isSymbolicLink()) r[k] = st[k]
  for (const k of TYPES) r[k] = st[k]()
  return r
}

function expectStats(st: EntryStats, path: Buffer): void {
  expect(record(st)).toEqual(record(lstatSync(path, { bigint: true })))
}

function expectListingMatches(l: DirectoryListing, abs: Buffer): void {
  const want = readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare).map(bin)
  expect(l.names).toEqual(want)
  expect(l.hasStats).toBe(true)
  const got = l.names.map((_, i) => {
    const st = l.lstat(i)
    return st instanceof Error || st === undefined ? st : { ...record(st), link: l.linkTarget(i) }
  })
  const ref = l.names.map((name) => {
    const p = Buffer.concat([abs, Buffer.from('/'), bytes(name)])
    const st = lstatSync(p, { bigint: true })
    return { ...record(st), link: st.isSymbolicLink() ? readlinkSync(p, { encoding: 'buffer' }) : undefined }
  })
  expect(got).toEqual(ref)
}

/** A worker that is running (so that requests are not sent to a fallback). */
async function started(w: DirectoryWorker): Promise<DirectoryWorker> {
  await w.list(bin(Buffer.from(dir)))
  return w
}

describe('DirectoryWorker: one round trip lists a directory and lstats its entries', () => {
  it('names as exact bytes, sorted by bytes; lstat numbers and symlink targets as lstat/readlink give them', async () => {
    const d = Buffer.from(join(dir, 'odd'))
    await mkdir(d)
    for (const [i, n] of ODD.entries()) await writeFile(Buffer.concat([d, Buffer.from('/'), n]), 'x'.repeat(i))
    await mkdir(Buffer.concat([d, Buffer.from('/sub\xff', 'latin1')]))
    await symlink(Buffer.from([0x74, 0xfe, 0x2f, 0x78]), Buffer.concat([d, Buffer.from('/link')]))
    await symlink(Buffer.from('dangling/target'), Buffer.concat([d, Buffer.from('/dangling')]))
    const w = new DirectoryWorker()
    try {
      const l = await w.list(bin(d))
      expect(l.names.length).toBe(ODD.length + 3)
      expect(l.names[0]).toBe('\x01ctl')
      expect(l.names.at(-1)).toBe('\xff')
      expectListingMatches(l, d)
      expect(l.linkTarget(l.names.indexOf('link'))).toEqual(Buffer.from([0x74, 0xfe, 0x2f, 0x78]))
      // the root directory (its entries are busy: times change), and a path with a trailing slash
      const root = await w.list('/')
      expect(root.names).toEqual(readdirSync('/', { encoding: 'buffer' }).sort(Buffer.compare).map(bin))
      root.names.forEach((n, i) => expect((root.lstat(i) as EntryStats).ino).toBe(lstatSync(bytes('/' + n), { bigint: true }).ino))
      expect((await w.list(bin(d) + '/')).names).toEqual(l.names)
    } finally {
      await w.close()
    }
  })

  it('an unreadable directory rejects as fs.readdir does (its code, and its message without the path)', async () => {
    const w = await started(new DirectoryWorker())
    try {
      const file = join(dir, 'plain-file')
      await writeFile(file, 'x')
      for (const p of [join(dir, 'missing'), file]) {
        let want: NodeJS.ErrnoException | undefined
        try {
          readdirSync(p)
        } catch (e) {
          want = e as NodeJS.ErrnoException
        }
        expect(want!.message).toContain(`, scandir '${p}'`)
        await expect(w.list(bin(Buffer.from(p)))).rejects.toMatchObject({ code: want!.code, message: want!.message.replace(`, scandir '${p}'`, '') })
      }
      // the worker goes on after failures
      expect((await w.list(bin(Buffer.from(dir)))).names).toContain('plain-file')
    } finally {
      await w.close()
    }
  })

  it.skipIf(process.getuid?.() === 0)('a directory without read permission (not as root, who may read it anyway)', async () => {
    const d = join(dir, 'noperm')
    await mkdir(d)
    await chmod(d, 0)
    const w = await started(new DirectoryWorker())
    try {
      await expect(w.list(bin(Buffer.from(d)))).rejects.toMatchObject({ code: 'EACCES' })
    } finally {
      await chmod(d, 0o755)
      await w.close()
    }
  })

  it('an entry vanishing between readdir and lstat is listed with its lstat error; the others are fine', async () => {
    const d = join(dir, 'vanish')
    await mkdir(d)
    for (const n of ['a', 'gone1', 'm', 'gone2', 'z']) await writeFile(join(d, n), n)
    const w = await started(new DirectoryWorker({ afterReaddir: new URL('./fixtures/removeGone.mjs', import.meta.url).href }))
    try {
      const l = await w.list(bin(Buffer.from(d)))
      expect(l.names).toEqual(['a', 'gone1', 'gone2', 'm', 'z'])
      for (const [i, n] of l.names.entries()) {
        const st = l.lstat(i)
        if (n.startsWith('gone')) {
          expect(st).toBeInstanceOf(Error)
          expect(st).toMatchObject({ code: 'ENOENT', message: 'ENOENT: no such file or directory' }) // the path is the caller's to name
        } else {
          expect((st as EntryStats).isFile()).toBe(true)
          expectStats(st as EntryStats, Buffer.from(join(d, n)))
        }
      }
    } finally {
      await w.close()
    }
  })

  it('a name readdir gives but lstat refuses (the path grew too long) is listed with the error', async () => {
    const { dir: target, longName, undo } = await dirWithUnstatableName(dir, 'short')
    const w = await started(new DirectoryWorker())
    try {
      const l = await w.list(bin(Buffer.from(target)))
      expect(l.names).toEqual([longName, 'short'])
      expect(l.lstat(0)).toMatchObject({ code: 'ENAMETOOLONG' })
      expect((l.lstat(1) as EntryStats).size).toBe(1n)
    } finally {
      await w.close()
      await undo()
    }
  })

  it('many entries, many directories at once (answers keep to their requests)', async () => {
    const d = join(dir, 'many')
    await mkdir(d)
    for (let i = 0; i < 3000; i++) writeFileSync(join(d, `f${i}`), String(i))
    const subs = Array.from({ length: 40 }, (_, i) => join(dir, 'many-subs', `s${i}`))
    for (const [i, s] of subs.entries()) {
      mkdirSync(s, { recursive: true })
      for (let k = 0; k <= i; k++) writeFileSync(join(s, `e${k}`), '')
    }
    const w = await started(new DirectoryWorker())
    try {
      const [big, ...small] = await Promise.all([w.list(bin(Buffer.from(d))), ...subs.map((s) => w.list(bin(Buffer.from(s))))])
      expect(big!.names.length).toBe(3000)
      expectListingMatches(big!, Buffer.from(d))
      small.forEach((l, i) => expect(l.names.length).toBe(i + 1))
      expectListingMatches(small[39]!, Buffer.from(subs[39]!))
    } finally {
      await w.close()
    }
  })

  it('with the empty-file check, each regular file of size 0 is found still empty or not; without it, none is checked', async () => {
    const d = join(dir, 'empties')
    await mkdir(d)
    await writeFile(join(d, 'empty'), '')
    await writeFile(join(d, 'one'), 'x')
    await symlink('empty', join(d, 'link'))
    await mkdir(join(d, 'sub'))
    const w = await started(new DirectoryWorker())
    try {
      // asked for together: the flags keep to their directories; /proc/sys/kernel's files are listed with size 0 and hold text
      const kernel = existsSync('/proc/sys/kernel/ostype') ? '/proc/sys/kernel' : bin(Buffer.from(d))
      const [checked, unchecked, proc] = await Promise.all([w.list(bin(Buffer.from(d)), undefined, false, true), w.list(bin(Buffer.from(d))), w.list(kernel, undefined, false, true)])
      expect(checked!.names).toEqual(['empty', 'link', 'one', 'sub'])
      expect(checked!.names.map((_, i) => checked!.emptyFile(i))).toEqual([true, false, false, false])
      expect(unchecked!.names.map((_, i) => unchecked!.emptyFile(i))).toEqual([undefined, undefined, undefined, undefined])
      if (kernel === '/proc/sys/kernel') {
        const ostype = proc!.names.indexOf('ostype')
        expect((proc!.lstat(ostype) as EntryStats).size).toBe(0n)
        expect(proc!.emptyFile(ostype)).toBe(false)
      }
    } finally {
      await w.close()
    }
  })

  it('a listing needed before the worker runs comes from the fallback; later ones from the worker', async () => {
    const calls: string[] = []
    const fallback = async (abs: string): Promise<DirectoryListing> => {
      calls.push(abs)
      return new DirectoryListing(readdirSync(bytes(abs), { encoding: 'latin1' }).sort())
    }
    const w = new DirectoryWorker()
    try {
      const hurried = w.list(bin(Buffer.from(dir)), fallback)
      const queued = w.list(bin(Buffer.from(dir)), fallback)
      w.hurry(hurried)
      const l = await hurried
      expect(calls).toEqual([bin(Buffer.from(dir))])
      expect(l.hasStats).toBe(false)
      expect(l.lstat(0)).toBeUndefined()
      expect((await queued).hasStats).toBe(true)
      w.hurry(queued) // settled: nothing happens
      expect((await w.list(bin(Buffer.from(dir)), fallback)).hasStats).toBe(true)
      expect(calls).toHaveLength(1)
    } finally {
      await w.close()
    }
  })

  it('if the worker dies, pending and later requests go to the fallback (or fail without one)', async () => {
    const fallback = async (abs: string): Promise<DirectoryListing> => new DirectoryListing(readdirSync(bytes(abs), { encoding: 'latin1' }).sort())
    const crash = join(dir, 'crash')
    await mkdir(crash)
    await writeFile(join(crash, 'f'), '')
    const afterReaddir = new URL('./fixtures/crashOnList.mjs', import.meta.url).href
    const w = await started(new DirectoryWorker({ afterReaddir }))
    const pending = w.list(bin(Buffer.from(crash)), fallback)
    expect(await pending).toMatchObject({ names: ['f'], hasStats: false }) // listed by the fallback
    expect(w.broken).toBe(true)
    expect((await w.list(bin(Buffer.from(dir)), fallback)).hasStats).toBe(false)
    await w.close()

    const bare = await started(new DirectoryWorker({ afterReaddir }))
    await expect(bare.list(bin(Buffer.from(crash)))).rejects.toThrow(/directory worker failed/)
    await expect(bare.list(bin(Buffer.from(dir)))).rejects.toThrow(/failed/)
    await bare.close()
  })

  it('close() fails pending requests and later ones', async () => {
    const w = new DirectoryWorker()
    const pending = expect(w.list(bin(Buffer.from(dir)))).rejects.toThrow(/closed/)
    await w.close()
    await pending
    await expect(w.list(bin(Buffer.from(dir)))).rejects.toThrow(/closed/)
  })

  it('walks share one worker, closed a while after the last gives it back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const a = acquireDirectoryWorker()
      const b = acquireDirectoryWorker()
      expect(b).toBe(a)
      releaseDirectoryWorker(a)
      vi.advanceTimersByTime(10_000)
      expect(a.broken).toBe(false) // still in use
      expect((await b.list(bin(Buffer.from(dir)))).hasStats).toBe(true)
      releaseDirectoryWorker(b)
      vi.advanceTimersByTime(500)
      const c = acquireDirectoryWorker() // taken again before the idle time is over
      expect(c).toBe(a)
      releaseDirectoryWorker(c)
      vi.advanceTimersByTime(10_000)
      expect(a.broken).toBe(true)
      const d = acquireDirectoryWorker()
      expect(d).not.toBe(a)
      expect((await d.list(bin(Buffer.from(dir)))).hasStats).toBe(true)
      releaseDirectoryWorker(d)
      vi.advanceTimersByTime(10_000)
      expect(d.broken).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })

  it('a prestarted worker is the one the walk takes; it stays while either holds it, and one release gives it back once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const release = prestartDirectoryWorker()
      const walk = acquireDirectoryWorker()
      release()
      release() // no effect: the walk still holds it
      vi.advanceTimersByTime(10_000)
      expect(walk.broken).toBe(false)
      expect((await walk.list(bin(Buffer.from(dir)))).hasStats).toBe(true)
      releaseDirectoryWorker(walk)
      vi.advanceTimersByTime(10_000)
      expect(walk.broken).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})

const noXattrs = xattrsUnsupported()

describe.skipIf(noXattrs !== undefined)('DirectoryWorker: extended attributes, read with the listing when asked for', () => {
  const BINARY = Buffer.from([0x00, 0xff, 0x00])
  let d: string
  beforeAll(async () => {
    d = join(dir, 'xattrs')
    await mkdir(join(d, 'sub'), { recursive: true })
    await writeFile(join(d, 'f'), 'x')
    xattr.setAttributeSync(join(d, 'f'), 'user.b', BINARY)
    xattr.setAttributeSync(join(d, 'f'), 'user.a', '')
    await writeFile(join(d, 'none'), '')
    xattr.setAttributeSync(join(d, 'sub'), 'user.d', 'dir')
    await writeFile(join(d, 'é'), '')
    xattr.setAttributeSync(join(d, 'é'), 'user.e', 'é')
    await symlink('f', join(d, 'link'))
    const latin1 = Buffer.concat([Buffer.from(d + '/'), LATIN1_NAME])
    writeFileSync(latin1, '')
    pySetXattr(latin1, Buffer.from('user.l'), 'unreachable')
  })

  it('in llistxattr order, empty values kept; none for symlinks; a path that is not UTF-8 is a problem, not a guess', async () => {
    const w = await started(new DirectoryWorker())
    try {
      // asked for in the same microtask: one message, one directory with xattrs and one without
      const [withX, without] = await Promise.all([w.list(bin(Buffer.from(d)), undefined, true), w.list(bin(Buffer.from(d)))])
      expect(without!.hasXattrs).toBe(false)
      expect(without!.xattrs(0)).toBeUndefined()
      const l = withX!
      expect(l.hasXattrs).toBe(true)
      expectListingMatches(l, Buffer.from(d))
      const at = (name: string | Buffer): number => l.names.indexOf(typeof name === 'string' ? bin(Buffer.from(name)) : bin(name))
      expect(l.xattrs(at('f'))).toEqual(xattr.listAttributesSync(join(d, 'f')).map((name) => ({ name, value: xattr.getAttributeSync(join(d, 'f'), name) })))
      expect(l.xattrs(at('f'))).toHaveLength(2)
      expect(l.xattrs(at('f'))).toContainEqual({ name: 'user.a', value: Buffer.alloc(0) })
      expect(l.xattrs(at('f'))).toContainEqual({ name: 'user.b', value: BINARY })
      expect(l.xattrs(at('sub'))).toEqual([{ name: 'user.d', value: Buffer.from('dir') }])
      expect(l.xattrs(at('é'))).toEqual([{ name: 'user.e', value: Buffer.from('é') }])
      expect(l.xattrs(at('none'))).toBeNull()
      expect(l.xattrs(at('link'))).toBeNull()
      expect(l.xattrs(at(LATIN1_NAME))).toBeNull()
      expect(l.xattrProblems(at(LATIN1_NAME))).toEqual([{ attribute: undefined, message: 'its path is not valid UTF-8' }])
      for (const n of ['f', 'sub', 'é', 'none', 'link']) expect(l.xattrProblems(at(n))).toBeUndefined()
    } finally {
      await w.close()
    }
  })

  it('a worker that cannot load the xattr package answers without them (the caller reads them)', async () => {
    const w = await started(new DirectoryWorker({ xattrModule: join(dir, 'no-such-module.js') }))
    try {
      const l = await w.list(bin(Buffer.from(d)), undefined, true)
      expect(l.hasStats).toBe(true)
      expect(l.hasXattrs).toBe(false)
      expect(l.xattrs(0)).toBeUndefined()
    } finally {
      await w.close()
    }
  })
})
