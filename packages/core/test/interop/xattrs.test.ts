import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { LocalSource, Repository, type ExtendedAttribute } from '@rustic-ts/core/internal'
import { collect, LATIN1_NAME, lsPaths, makeResticRepo, ourNodeObject, resticNodeObject, tempDir, type ResticRepo } from '../archiver/sources/helpers.js'
import { pySetXattr, xattr, xattrsOf, xattrsUnsupported } from '../archiver/sources/xattrHelpers.js'

const unsupported = xattrsUnsupported()
if (unsupported) console.warn(`skipping the xattr tests: ${unsupported}`)

const BINARY = Buffer.from([0x00, 0xff, 0x01, 0x80, 0x00])
const LARGE = randomBytes(1500)

/**
 * Files with xattrs: several on one file (set in an order that is not sorted), a binary value with 0x00
 * and 0xff bytes, an empty value, a large value, a file without any, a directory with one, a file in it,
 * and a symlink next to them.
 */
async function makeData(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true })
  await writeFile(join(dir, 'a.txt'), 'a\n')
  xattr.setAttributeSync(join(dir, 'a.txt'), 'user.b', BINARY)
  xattr.setAttributeSync(join(dir, 'a.txt'), 'user.a', '')
  xattr.setAttributeSync(join(dir, 'a.txt'), 'user.z', 'zed')
  await writeFile(join(dir, 'large.bin'), 'large\n')
  xattr.setAttributeSync(join(dir, 'large.bin'), 'user.large', LARGE)
  await writeFile(join(dir, 'plain.txt'), 'no xattrs\n')
  xattr.setAttributeSync(join(dir, 'sub'), 'user.dir', 'a directory')
  await writeFile(join(dir, 'sub', 'inner.txt'), 'inner\n')
  xattr.setAttributeSync(join(dir, 'sub', 'inner.txt'), 'user.inner', 'i')
  await symlink('a.txt', join(dir, 'link'))
}

let repo: ResticRepo
let base: string
let resticSnap: string
let theirs: Array<{ path: string; node: Record<string, unknown> }>

beforeAll(async () => {
  if (unsupported) return
  ;[repo, base] = await Promise.all([makeResticRepo(), tempDir('xattr')])
  await makeData(join(base, 'data'))
  resticSnap = await repo.backup(['data'], { cwd: base })
  theirs = await repo.nodes(resticSnap)
})

afterAll(async () => {
  await Promise.all([repo?.cleanup(), base && rm(base, { recursive: true, force: true })])
})

describe.skipIf(unsupported !== undefined)('extended attributes as restic 0.14 stores them', () => {
  it('restic stores them in llistxattr order, empty values as "", none for the symlink', () => {
    const byPath = new Map(theirs.map((t) => [t.path, t.node]))
    const b64 = (v: Buffer | string): string => Buffer.from(v).toString('base64')
    expect(byPath.get('/data/a.txt')!['extended_attributes']).toEqual(
      xattr.listAttributesSync(join(base, 'data', 'a.txt')).map((name) => ({ name, value: b64(xattr.getAttributeSync(join(base, 'data', 'a.txt'), name)!) })),
    )
    expect(byPath.get('/data/a.txt')!['extended_attributes']).toContainEqual({ name: 'user.a', value: '' })
    expect(byPath.get('/data/a.txt')!['extended_attributes']).toContainEqual({ name: 'user.b', value: b64(BINARY) })
    expect(byPath.get('/data/sub')!['extended_attributes']).toEqual([{ name: 'user.dir', value: b64('a directory') }])
    expect(byPath.get('/data/link')!['extended_attributes']).toBeUndefined()
    expect(byPath.get('/data/plain.txt')!['extended_attributes']).toBeUndefined()
  })

  it.each([{ statInWorker: true }, { statInWorker: false }])('LocalSource makes the same nodes as restic backup (%o)', async ({ statInWorker }) => {
    const warnings: string[] = []
    const { entries, errors } = await collect(new LocalSource(['data'], { cwd: base, statInWorker, onWarning: (w) => warnings.push(w) }))
    expect(errors).toEqual([])
    expect(warnings).toEqual([])
    expect(lsPaths(entries)).toEqual(theirs.map((t) => t.path))
    expect(entries.map((e) => ({ path: e.path, node: ourNodeObject(e.node) }))).toEqual(
      theirs.map((t, i) => ({ path: entries[i]!.path, node: resticNodeObject(t.node) })),
    )
    expect(entries.filter((e) => e.node.extendedAttributes !== undefined).map((e) => e.path)).toEqual([
      'data/a.txt',
      'data/large.bin',
      'data/sub',
      'data/sub/inner.txt',
    ])
  })

  it('a rustic-ts backup stores the same trees as restic; restic restore of it sets the same xattrs', async () => {
    const indexed = await (await Repository.open({}, { repository: new LocalBackend(join(repo.dir, 'repo')) }, { password: 'fast' })).toIndexed()
    const warnings: string[] = []
    const result = await indexed.backup(['data'], { noParent: true, local: { cwd: base } }, { onWarning: (w) => warnings.push(w) })
    expect(result.skipped).toEqual([])
    expect(warnings).toEqual([])
    const ours = await repo.nodes(result.snapshot.id!)
    expect(ours).toEqual(theirs)
    const target = join(base, 'restored')
    await repo.restic(['restore', result.snapshot.id!, '--target', target])
    for (const p of ['a.txt', 'large.bin', 'plain.txt', 'sub', 'sub/inner.txt']) {
      expect({ p, xattrs: xattrsOf(join(target, 'data', p)) }).toEqual({ p, xattrs: xattrsOf(join(base, 'data', p)) })
    }
    expect(xattrsOf(join(target, 'data', 'a.txt'))).toHaveLength(3)
    expect(xattrsOf(join(target, 'data', 'large.bin'))).toEqual([['user.large', LARGE.toString('hex')]])
  })

  it.each([{ statInWorker: true }, { statInWorker: false }])('a custom xattrReader overrides the package (%o)', async ({ statInWorker }) => {
    const asked: string[] = []
    const custom: ExtendedAttribute[] = [{ name: 'user.custom', value: new Uint8Array([7, 0]) }]
    const xattrReader = async (path: Buffer): Promise<ExtendedAttribute[]> => {
      asked.push(path.toString())
      return custom
    }
    const { entries } = await collect(new LocalSource(['data'], { cwd: base, statInWorker, xattrReader }))
    const dir = join(base, 'data')
    expect(asked.sort()).toEqual([dir, ...['a.txt', 'large.bin', 'plain.txt', 'sub', 'sub/inner.txt'].map((p) => join(dir, p))].sort())
    for (const e of entries) expect({ path: e.path, xattrs: e.node.extendedAttributes }).toEqual({ path: e.path, xattrs: e.node.type === 'symlink' ? undefined : custom })
    const { entries: off } = await collect(new LocalSource(['data'], { cwd: base, statInWorker, xattrReader, readXattrs: false }))
    expect(off.every((e) => e.node.extendedAttributes === undefined)).toBe(true)
  })

  it.each([{ statInWorker: true }, { statInWorker: false }])(
    'readXattrs: false stores none; size() reads none (%o)',
    async ({ statInWorker }) => {
      const { entries } = await collect(new LocalSource(['data'], { cwd: base, statInWorker, readXattrs: false }))
      expect(entries.length).toBe(theirs.length)
      expect(entries.every((e) => e.node.extendedAttributes === undefined)).toBe(true)
      expect(await new LocalSource(['data'], { cwd: base, statInWorker }).size()).toEqual({ files: 4, bytes: 2 + 6 + 10 + 6 })
    },
  )
})

describe.skipIf(unsupported !== undefined)('xattrs that cannot be read', () => {
  let dir: string
  beforeAll(() => {
    dir = join(base, 'unreadable')
    mkdirSync(dir)
    // a path that is not valid UTF-8 cannot be given to the package (its lossy form would name another file)
    const latin1 = Buffer.concat([Buffer.from(dir + '/'), LATIN1_NAME])
    writeFileSync(latin1, 'latin1 name')
    pySetXattr(latin1, Buffer.from('user.x'), 'on a latin1 name')
    // the package refuses to list names that are not valid UTF-8
    writeFileSync(join(dir, 'badname.txt'), 'odd xattr name')
    pySetXattr(Buffer.from(join(dir, 'badname.txt')), Buffer.from([...Buffer.from('user.'), 0xff]), 'v')
    writeFileSync(join(dir, 'good.txt'), 'fine')
    xattr.setAttributeSync(join(dir, 'good.txt'), 'user.good', 'yes')
  })

  it.each([{ statInWorker: true }, { statInWorker: false }])('give a warning each; the files are still backed up (%o)', async ({ statInWorker }) => {
    const warnings: string[] = []
    const { entries, errors } = await collect(new LocalSource([dir], { statInWorker, onWarning: (w) => warnings.push(w) }))
    expect(errors).toEqual([])
    // (on the main thread, items are prepared concurrently: warnings may come in any order)
    expect(warnings.sort()).toEqual([
      `cannot read extended attributes of ${dir}/badname.txt: Invalid attribute: "user.\\xFF"`,
      `cannot read extended attributes of ${dir}/caf\ufffd: its path is not valid UTF-8`,
    ])
    const byName = new Map(entries.map((e) => [e.path.slice(dir.length + 1), e]))
    expect(byName.get('badname.txt')!.node.extendedAttributes).toBeUndefined()
    expect(byName.get('caf\ufffd')!.node.extendedAttributes).toBeUndefined()
    expect(Buffer.from(byName.get('caf\ufffd')!.node.nameRaw!).equals(LATIN1_NAME)).toBe(true)
    expect(byName.get('good.txt')!.node.extendedAttributes).toEqual([{ name: 'user.good', value: Buffer.from('yes') }])
  })

  it('a backup keeps the files, without the xattrs it could not read', async () => {
    const indexed = await (await Repository.open({}, { repository: new LocalBackend(join(repo.dir, 'repo')) }, { password: 'fast' })).toIndexed()
    const warnings: string[] = []
    const result = await indexed.backup([dir], { noParent: true }, { onWarning: (w) => warnings.push(w) })
    expect(result.skipped).toEqual([])
    expect(warnings).toHaveLength(2)
    const nodes = (await repo.nodes(result.snapshot.id!)).filter((n) => n.path.startsWith(dir + '/'))
    expect(nodes.map((n) => [n.path, n.node['extended_attributes']])).toEqual([
      [`${dir}/badname.txt`, undefined],
      [`${dir}/caf\ufffd`, undefined],
      [`${dir}/good.txt`, [{ name: 'user.good', value: Buffer.from('yes').toString('base64') }]],
    ])
  })
})
