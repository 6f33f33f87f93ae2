import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBackend, Repository, type ExtendedAttribute, type IndexedRepository } from '@rustic-ts/core/internal'
import { LATIN1_NAME } from '../archiver/sources/helpers.js'
import { pyListXattrs, xattr, xattrsOf, xattrsUnsupported } from '../archiver/sources/xattrHelpers.js'
import { asRoot, openIndexed, restic, resticRepoWith, restoreTo, tempDir, walkTree } from '../commands/helpers.js'

const unsupported = xattrsUnsupported()
if (unsupported) console.warn(`skipping the xattr restore tests: ${unsupported}`)

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

const BINARY = Buffer.from([0x00, 0xff, 0x01, 0x80, 0x00])

/** Files with xattrs: small (one blob), large (many), empty, read-only, hard-linked, in a directory with some; a symlink and a file without. */
async function makeData(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true })
  await writeFile(join(dir, 'a.txt'), 'a\n')
  xattr.setAttributeSync(join(dir, 'a.txt'), 'user.b', BINARY)
  xattr.setAttributeSync(join(dir, 'a.txt'), 'user.a', '')
  xattr.setAttributeSync(join(dir, 'a.txt'), 'user.z', 'zed')
  await link(join(dir, 'a.txt'), join(dir, 'a-link'))
  await writeFile(join(dir, 'big.bin'), randomBytes(3 * 1024 * 1024))
  xattr.setAttributeSync(join(dir, 'big.bin'), 'user.big', randomBytes(1000))
  await writeFile(join(dir, 'empty'), '')
  xattr.setAttributeSync(join(dir, 'empty'), 'user.empty', 'e')
  await writeFile(join(dir, 'ro.txt'), 'read-only\n')
  xattr.setAttributeSync(join(dir, 'ro.txt'), 'user.ro', 'r')
  await chmod(join(dir, 'ro.txt'), 0o444)
  await writeFile(join(dir, 'plain.txt'), 'none\n')
  xattr.setAttributeSync(join(dir, 'sub'), 'user.dir', 'd')
  await writeFile(join(dir, 'sub', 'inner.txt'), 'inner\n')
  xattr.setAttributeSync(join(dir, 'sub', 'inner.txt'), 'user.inner', 'i')
  await symlink('a.txt', join(dir, 'link'))
}

const PATHS = ['', 'a.txt', 'a-link', 'big.bin', 'empty', 'ro.txt', 'plain.txt', 'sub', 'sub/inner.txt']

/** The xattrs of every path of {@link PATHS} below `root`. */
function allXattrs(root: string): Record<string, Array<[string, string]>> {
  return Object.fromEntries(PATHS.map((p) => [p, xattrsOf(join(root, p))]))
}

describe.skipIf(unsupported !== undefined)('restore of a restic snapshot with extended attributes', () => {
  let tmp: string
  let indexed: IndexedRepository
  let snap: string
  let want: Record<string, Array<[string, string]>>

  beforeAll(async () => {
    const t = await tempDir()
    cleanups.push(t.remove)
    tmp = t.path
    await makeData(join(tmp, 'data'))
    want = allXattrs(join(tmp, 'data'))
    const repo = join(tmp, 'repo')
    snap = await resticRepoWith(repo, tmp, 'data', 2, { cheapKey: true })
    await restic(repo, ['restore', snap, '--target', join(tmp, 'by-restic')])
    indexed = await openIndexed(repo)
  })

  it('restic restore sets them (the reference; but for a read-only file as a user)', () => {
    // restic 0.14 sets xattrs after the mode, and drops the error: a user may not set those of a
    // read-only file (rustic-ts sets them before the mode)
    expect(allXattrs(join(tmp, 'by-restic', 'data'))).toEqual(asRoot ? want : { ...want, 'ro.txt': [] })
    expect(want['a.txt']).toHaveLength(3)
    expect(want['link']).toBeUndefined()
  })

  it.each([{ workers: 2 }, { workers: 0 }])('sets them as restic restore does, with the same modes and times (%o)', async ({ workers }) => {
    const target = join(tmp, `fresh-${workers}`)
    const { stats, warnings } = await restoreTo(indexed, `${snap}:/data`, target, { workers })
    expect(warnings).toEqual([])
    expect(stats.warnings).toBe(0)
    expect(allXattrs(target)).toEqual(want)
    expect(xattr.listAttributesSync(join(target, 'link'))).toEqual([])
    const reference = await walkTree(join(tmp, 'by-restic', 'data'))
    const ours = await walkTree(target)
    expect(ours.entries).toEqual(reference.entries)
    expect(ours.linkGroups).toEqual(reference.linkGroups)
  })

  it('in place: a second restore changes nothing; changed xattrs are set back, extra ones kept (as restic 0.14 does)', async () => {
    const target = join(tmp, 'in-place')
    await restoreTo(indexed, `${snap}:/data`, target)
    const again = await restoreTo(indexed, `${snap}:/data`, target)
    expect(again.warnings).toEqual([])
    expect(again.stats).toMatchObject({ filesWritten: 0, dirsCreated: 0, othersCreated: 0, removed: 0, bytesWritten: 0, metadataSet: 0, warnings: 0 })
    expect(allXattrs(target)).toEqual(want)

    const before = await walkTree(target)
    xattr.setAttributeSync(join(target, 'a.txt'), 'user.b', 'changed')
    xattr.removeAttributeSync(join(target, 'sub', 'inner.txt'), 'user.inner')
    xattr.setAttributeSync(join(target, 'big.bin'), 'user.big', '')
    xattr.setAttributeSync(join(target, 'plain.txt'), 'user.extra', 'kept')
    xattr.setAttributeSync(join(target, 'sub'), 'user.extra', 'kept')
    const third = await restoreTo(indexed, `${snap}:/data`, target)
    expect(third.warnings).toEqual([])
    // a.txt (its hard link then has them already), sub/inner.txt, big.bin
    expect(third.stats).toMatchObject({ filesWritten: 0, bytesWritten: 0, metadataSet: 3, warnings: 0 })
    expect(allXattrs(target)).toEqual({
      ...want,
      'plain.txt': [['user.extra', Buffer.from('kept').toString('hex')]],
      sub: [...want['sub']!, ['user.extra', Buffer.from('kept').toString('hex')]],
    })
    expect((await walkTree(target)).entries).toEqual(before.entries)
  })
})

describe.skipIf(unsupported !== undefined)('xattrs that cannot be set', () => {
  it('give warnings (unsupported ones once per name); the restore goes on and sets the others', async () => {
    const t = await tempDir()
    cleanups.push(t.remove)
    const src = join(t.path, 'src')
    await mkdir(src)
    await writeFile(join(src, 'x1'), 'one')
    await writeFile(join(src, 'x2'), 'two')
    const latin1 = Buffer.concat([Buffer.from(src + '/'), LATIN1_NAME])
    await writeFile(latin1, 'latin1 name')
    const longName = 'user.' + 'n'.repeat(300)
    // a reader that stores what cannot be set: a namespace Linux does not know, a name over 255 bytes
    const xattrReader = async (path: Buffer): Promise<ExtendedAttribute[]> => {
      const name = path.subarray(path.lastIndexOf('/') + 1)
      const attrs: ExtendedAttribute[] = [
        { name: 'bogus.name', value: Buffer.from('v') },
        { name: 'user.ok', value: Buffer.from('fine') },
      ]
      if (name.equals(Buffer.from('x1'))) attrs.push({ name: longName, value: Buffer.from('too long') })
      return name.equals(Buffer.from('src')) ? [] : attrs
    }
    const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    await indexed.backup([src], { local: { xattrReader } })
    const target = join(t.path, 'target')
    const { stats, warnings } = await restoreTo(indexed, `latest:${src}`, target)
    // metadata is set in reverse tree order: x2, x1, then caf\xe9
    expect(warnings).toHaveLength(3)
    expect(warnings[0]).toMatch(new RegExp(`^cannot set extended attribute bogus\\.name of ${target}/x2: .*\\(os error \\d+\\) \\(not reported again for bogus\\.name\\)$`))
    expect(warnings[1]).toMatch(new RegExp(`^cannot set extended attribute ${longName} of ${target}/x1: .*\\(os error \\d+\\)$`))
    expect(warnings[2]).toBe(`cannot set extended attributes of ${target}/caf\ufffd: its path is not valid UTF-8`)
    expect(stats.warnings).toBe(3)
    for (const f of ['x1', 'x2']) expect(xattrsOf(join(target, f))).toEqual([['user.ok', Buffer.from('fine').toString('hex')]])
    // nothing was set on the file whose name the package cannot take, and its lossy namesake was not made
    expect(pyListXattrs(Buffer.concat([Buffer.from(target + '/'), LATIN1_NAME]))).toEqual([])
    expect(existsSync(join(target, 'caf\ufffd'))).toBe(false)
  })
})
