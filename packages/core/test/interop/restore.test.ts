import { appendFile, chmod, cp, lstat, mkdir, open, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  isRusticError,
  planPackReads,
  type Id,
  type IndexedRepository,
  type Progress,
} from '@rustic-ts/core/internal'
import { inodeTimes, makeTree, openIndexed, restic, resticRepoWith, restoreTo, tempDir, walkTree } from '../commands/helpers.js'

const run = promisify(execFile)
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

describe('restore of restic repository v1', () => {
  it('gives the same tree as restic restore (content, modes, mtimes, symlinks, hard links, fifo, non-UTF-8 name)', async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    await makeTree(join(tmp.path, 'data'))
    const repo = join(tmp.path, 'repo')
    const snap = await resticRepoWith(repo, tmp.path, 'data', 1, { cheapKey: true })
    await restic(repo, ['restore', snap, '--target', join(tmp.path, 'by-restic')])
    const indexed = await openIndexed(repo)
    const target = join(tmp.path, 'by-rustic')
    const { stats } = await restoreTo(indexed, `${snap}:/data`, target)
    expect(stats.warnings).toBe(0)
    const a = await walkTree(join(tmp.path, 'by-restic', 'data'))
    const b = await walkTree(target)
    expect(a.entries.size).toBeGreaterThan(20)
    expect(a.linkGroups).toHaveLength(2)
    expect(b.linkGroups).toEqual(a.linkGroups)
    expect(b.entries).toEqual(a.entries)
  })
})

describe('restore of restic repository v2', () => {
  let tmp: { path: string; remove: () => Promise<void> }
  let indexed: IndexedRepository
  let snap: string
  let reference: Awaited<ReturnType<typeof walkTree>>

  beforeAll(async () => {
    tmp = await tempDir()
    cleanups.push(tmp.remove)
    await makeTree(join(tmp.path, 'data'))
    const repo = join(tmp.path, 'repo')
    snap = await resticRepoWith(repo, tmp.path, 'data', 2, { cheapKey: true })
    await restic(repo, ['restore', snap, '--target', join(tmp.path, 'by-restic')])
    reference = await walkTree(join(tmp.path, 'by-restic', 'data'))
    indexed = await openIndexed(repo)
  })

  it.each([{ workers: 2 }, { workers: 0 }])('gives the same tree as restic restore; each pack is read once (%o)', async ({ workers }) => {
    const target = join(tmp.path, `fresh-${workers}`)
    const { plan, stats } = await restoreTo(indexed, `${snap}:/data`, target, { workers })
    expect(plan.stats.files.create).toBe([...plan.entries].filter((e) => e.type === 'file').length)
    expect(plan.removals).toEqual([])
    const packs = [...plan.reads].map((r) => r.packId)
    expect(new Set(packs).size).toBe(packs.length)
    expect(stats.bytesRead).toBe(plan.stats.bytesToRead)
    expect(stats.bytesWritten).toBe(plan.stats.bytesToWrite)
    const b = await walkTree(target)
    expect(b.linkGroups).toEqual(reference.linkGroups)
    expect(b.entries).toEqual(reference.entries)
  })

  it('re-running a finished restore changes nothing', async () => {
    const target = join(tmp.path, 'rerun')
    await restoreTo(indexed, `${snap}:/data`, target)
    const before = await inodeTimes(target)
    const { plan, stats } = await restoreTo(indexed, `${snap}:/data`, target, { delete: true })
    expect(plan.stats.files.create + plan.stats.files.modify).toBe(0)
    expect(plan.stats.dirs.create + plan.stats.others.create).toBe(0)
    expect(plan.removals).toEqual([])
    expect(plan.reads.length).toBe(0)
    expect(stats.metadataSet).toBe(0)
    expect(await inodeTimes(target)).toEqual(before)
  })

  it('in place: rewrites only changed blobs and files, replaces entries of another type, deletes with delete', async () => {
    const target = join(tmp.path, 'inplace')
    await restoreTo(indexed, `${snap}:/data`, target)
    // mutate the restored tree
    await appendFile(join(target, 'a', 'hello.txt'), 'appended\n')
    const big = await open(join(target, 'big.bin'), 'r+')
    await big.write(Buffer.from('XXXX'), 0, 4, 3 * 1024 * 1024)
    await big.close()
    await unlink(join(target, 'a', 'b', 'c', 'deep.txt'))
    await writeFile(join(target, 'extra.txt'), 'not in the snapshot')
    await mkdir(join(target, 'extra-dir'))
    await writeFile(join(target, 'extra-dir', 'x'), 'x')
    await unlink(join(target, 'dangling'))
    await symlink('elsewhere', join(target, 'dangling'))
    await rm(join(target, 'empty-dir'), { recursive: true })
    await writeFile(join(target, 'empty-dir'), 'a file where a dir was')
    await rm(join(target, 'zeros.bin'))
    await mkdir(join(target, 'zeros.bin'))
    await writeFile(join(target, 'zeros.bin', 'inner'), 'a dir where a file was')
    await chmod(join(target, 'private', 'secret'), 0o644)
    const before = await inodeTimes(target)

    const { node } = await indexed.resolveSnapshotPath(`${snap}:/data`)
    const plan = await indexed.planRestore(node, target)
    const byPath = new Map([...plan.entries].map((e) => [e.path, e]))
    expect(byPath.get('/a/hello.txt')!.action).toBe('modify')
    expect(byPath.get('/big.bin')!.action).toBe('modify')
    expect(byPath.get('/a/b/c/deep.txt')!.action).toBe('create')
    expect(byPath.get('/dangling')!.action).toBe('create')
    expect(byPath.get('/empty-dir')!.action).toBe('create')
    expect(byPath.get('/zeros.bin')!.action).toBe('create')
    expect(byPath.get('/private/secret')!.action).toBe('unchanged')
    expect(byPath.get('/links/orig')!.action).toBe('unchanged')
    expect(plan.stats.files.modify).toBe(2)
    expect(plan.removals.map((r) => [r.path, r.reason]).sort()).toEqual([
      ['/dangling', 'replaced'],
      ['/empty-dir', 'replaced'],
      ['/zeros.bin', 'replaced'],
    ])
    expect(plan.stats.additionalKept).toBe(2)
    // hello.txt only needs truncating; big.bin needs the one blob holding the changed bytes
    const files = [...plan.files]
    const bigFile = files.find((f) => plan.entries.path(f.entry) === '/big.bin')!
    const helloFile = files.find((f) => plan.entries.path(f.entry) === '/a/hello.txt')!
    expect(helloFile.writes).toBe(0)
    expect(bigFile.writes).toBe(1)
    const bigIdx = files.indexOf(bigFile)
    const bigBlob = [...plan.reads].flatMap((r) => r.blobs).find((b) => b.targets.some((t) => t.file === bigIdx))!
    // (restic's random polynomial leaves 5 MiB in one chunk about once in a hundred repositories)
    expect(bigBlob.dataLength).toBeLessThanOrEqual(bigFile.size)
    // deep.txt, zeros.bin (replaced) and the one blob of big.bin
    expect(plan.stats.bytesToWrite).toBe(15000 + 3 * 1024 * 1024 + bigBlob.dataLength)
    await indexed.restore(plan)

    const after = await inodeTimes(target)
    const changed = [...before.keys()].filter((k) => after.get(k) !== before.get(k)).sort()
    // only what was mutated (and its directories' times) changed; big.bin was written in place (same inode)
    expect(changed).toEqual([
      '/a/b/c',
      '/a/hello.txt',
      '/big.bin',
      '/dangling',
      '/empty-dir',
      '/private/secret',
      '/zeros.bin',
      '/zeros.bin/inner',
    ])
    expect(after.get('/big.bin')!.split(':')[0]).toBe(before.get('/big.bin')!.split(':')[0])
    const tree = await walkTree(target)
    expect(tree.entries.get('/extra.txt')).toBeDefined()
    tree.entries.delete('/extra.txt')
    tree.entries.delete('/extra-dir')
    tree.entries.delete('/extra-dir/x')
    for (const [k, v] of reference.entries) if (k !== '') expect([k, tree.entries.get(k)]).toEqual([k, v])
    expect(tree.linkGroups).toEqual(reference.linkGroups)

    // with delete, the additional entries go
    const { plan: p2 } = await restoreTo(indexed, `${snap}:/data`, target, { delete: true })
    expect(p2.removals.map((r) => [r.path, r.reason, r.isDir]).sort()).toEqual([
      ['/extra-dir', 'additional', true],
      ['/extra.txt', 'additional', false],
    ])
    expect(p2.stats.files.create + p2.stats.files.modify).toBe(0)
    const final = await walkTree(target)
    expect(final.entries).toEqual(reference.entries)
  })

  it('verifyExisting hashes files whose size and mtime match', async () => {
    const target = join(tmp.path, 'verify')
    await restoreTo(indexed, `${snap}:/data`, target)
    const p = join(target, 'links', 'pair-a')
    await run('touch', ['-r', p, `${p}.ref`]) // keep the nanosecond times
    await writeFile(p, 'PAIR\n') // same size
    await run('touch', ['-r', `${p}.ref`, p])
    await rm(`${p}.ref`)
    const { node } = await indexed.resolveSnapshotPath(`${snap}:/data`)
    const trusting = await indexed.planRestore(node, target)
    expect(trusting.stats.files.modify).toBe(0)
    const verifying = await indexed.planRestore(node, target, { verifyExisting: true })
    expect([...verifying.entries].find((e) => e.path === '/links/pair-a')!.action).toBe('modify')
    expect(verifying.stats.files.modify).toBe(1)
    expect(verifying.stats.files.verified).toBeGreaterThan(5)
    await indexed.restore(verifying)
    expect(await readFile(p, 'utf8')).toBe('pair\n')
    expect(await readFile(join(target, 'links', 'pair-b'), 'utf8')).toBe('pair\n')
  })

  it('include and exclude globs; delete only removes selected paths', async () => {
    const target = join(tmp.path, 'filtered')
    await mkdir(target)
    await writeFile(join(target, 'keep.bin'), 'not selected by the include pattern')
    await writeFile(join(target, 'gone.txt'), 'selected, not in the snapshot')
    const { plan } = await restoreTo(indexed, `${snap}:/data`, target, {
      include: ['hello.txt', 'deep.txt', 'gone.txt'],
      exclude: ['/a/b'],
      delete: true,
    })
    const tree = await walkTree(target)
    expect([...tree.entries.keys()].sort()).toEqual(['/a', '/a/hello.txt', '/keep.bin'])
    expect(plan.removals.map((r) => r.path)).toEqual(['/gone.txt'])
    expect(tree.entries.get('/a/hello.txt')).toEqual(reference.entries.get('/a/hello.txt'))
  })

  it('restores a single file into a directory or to a path; sparse leaves holes', async () => {
    const dir = join(tmp.path, 'single')
    await mkdir(dir)
    await restoreTo(indexed, `${snap}:/data/a/hello.txt`, dir)
    expect(await readFile(join(dir, 'hello.txt'), 'utf8')).toBe('hello world\n')
    await restoreTo(indexed, `${snap}:/data/zeros.bin`, join(dir, 'sub', 'z.bin'), { sparse: true })
    const st = await stat(join(dir, 'sub', 'z.bin'))
    expect(st.size).toBe(3 * 1024 * 1024)
    expect(st.blocks * 512).toBeLessThan(1024 * 1024)
    expect((await readFile(join(dir, 'sub', 'z.bin'))).every((b) => b === 0)).toBe(true)
  })

  it.each([{ workers: 2 }, { workers: 0 }])('an aborted restore is finished by running it again (%o)', async ({ workers }) => {
    const target = join(tmp.path, `aborted-${workers}`)
    const ac = new AbortController()
    const progress = (kind: string): Progress => ({
      setLength() {},
      setTitle() {},
      inc() {
        if (kind === 'bytes') ac.abort()
      },
      finish() {},
    })
    const { node } = await indexed.resolveSnapshotPath(`${snap}:/data`)
    const plan = await indexed.planRestore(node, target, { workers, readConcurrency: 1, maxReadSize: 1 << 20, maxReadGap: 0 })
    const err = await indexed.restore(plan, { signal: ac.signal, progress }).catch((e: unknown) => e)
    expect(isRusticError(err, 'Aborted')).toBe(true)
    const partial = await walkTree(target)
    expect(partial.entries).not.toEqual(reference.entries)
    const { plan: again } = await restoreTo(indexed, `${snap}:/data`, target)
    expect(again.stats.files.modify + again.stats.files.create).toBeGreaterThan(0)
    expect((await walkTree(target)).entries).toEqual(reference.entries)
  })

  it.each([{ workers: 2 }, { workers: 0 }])('a corrupted pack: the files of the blob that fails its MAC check are listed as damaged, naming the pack (%o)', async ({ workers }) => {
    const copy = join(tmp.path, `corrupt-repo-${workers}`)
    await cp(join(tmp.path, 'repo'), copy, { recursive: true })
    const packs: Array<{ path: string; size: number }> = []
    for (const sub of await readdir(join(copy, 'data'))) {
      for (const f of await readdir(join(copy, 'data', sub))) {
        const p = join(copy, 'data', sub, f)
        packs.push({ path: p, size: (await stat(p)).size })
      }
    }
    const biggest = packs.sort((a, b) => b.size - a.size)[0]!
    const fh = await open(biggest.path, 'r+')
    await fh.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, 100)
    await fh.close()
    const broken = await openIndexed(copy)
    const { node } = await broken.resolveSnapshotPath(`${snap}:/data`)
    const target = join(tmp.path, `corrupt-${workers}`)
    const plan = await broken.planRestore(node, target, { workers })
    const stats = await broken.restore(plan, { onWarning: () => {} })
    expect(stats.damaged.length).toBeGreaterThan(0)
    expect(stats.damaged[0]!.error).toMatch(/^MAC check failed for data blob /)
    expect(stats.damaged[0]!.error).toContain(biggest.path.split('/').pop()!)
  })

  it('dry run: planning writes nothing', async () => {
    const target = join(tmp.path, 'dry', 'run')
    const { node } = await indexed.resolveSnapshotPath(`${snap}:/data`)
    const plan = await indexed.planRestore(node, target)
    expect(plan.createTarget).toBe(true)
    expect(plan.stats.bytesToWrite).toBeGreaterThan(8 * 1024 * 1024)
    await expect(lstat(join(tmp.path, 'dry'))).rejects.toThrow(/ENOENT/)
  })

  it('never follows a symlink in the target', async () => {
    const target = join(tmp.path, 'symlinked')
    const outside = join(tmp.path, 'outside')
    await mkdir(outside)
    await mkdir(target)
    await symlink(outside, join(target, 'a')) // where the snapshot has directory /a
    await symlink(join(outside, 'big'), join(target, 'big.bin')) // where it has a file
    await restoreTo(indexed, `${snap}:/data`, target)
    expect(await readdir(outside)).toEqual([])
    expect((await lstat(join(target, 'a'))).isDirectory()).toBe(true)
    expect((await lstat(join(target, 'big.bin'))).isFile()).toBe(true)
  })
})

describe('planPackReads', () => {
  const id = (n: number): Id => n.toString(16).padStart(64, '0') as Id
  const blob = (n: number, offset: number, length: number) => ({
    id: id(n),
    offset,
    length,
    dataLength: length - 32,
    targets: [{ file: 0, offset: 0 }],
  })
  it('merges close neighbours of one pack, splits at gaps and at the size limit, keeps first-need pack order', () => {
    const p1 = id(1001)
    const p2 = id(1002)
    const reads = planPackReads(
      [
        { packId: p2, blob: blob(1, 0, 100) },
        { packId: p1, blob: blob(2, 5000, 100) },
        { packId: p1, blob: blob(3, 0, 100) },
        { packId: p1, blob: blob(4, 150, 100) },
        { packId: p1, blob: blob(5, 300, 1000) },
      ],
      { maxReadGap: 100, maxReadSize: 1200 },
    )
    expect([...reads].map((r) => [r.packId, r.offset, r.length, r.blobs.map((b) => b.offset)])).toEqual([
      [p2, 0, 100, [0]],
      [p1, 0, 250, [0, 150]],
      [p1, 300, 1000, [300]],
      [p1, 5000, 100, [5000]],
    ])
  })
})

describe('restore of a crafted tree', () => {
  it('refuses names with "/", ".." or NUL before writing anything', async () => {
    const { craftedRepo } = await import('../commands/crafted.js')
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    for (const bad of ['../escape', '..', 'a\u0000b', 'x/y']) {
      const indexed = await craftedRepo(bad)
      const { node } = await indexed.resolveSnapshotPath('latest')
      const target = join(tmp.path, 'target')
      const err = await indexed.planRestore(node, target).catch((e: unknown) => e)
      expect(isRusticError(err, 'UnsafeName')).toBe(true)
      expect((err as Error).message).toContain(JSON.stringify(bad))
      expect(await readdir(tmp.path)).toEqual([])
    }
  })
})
