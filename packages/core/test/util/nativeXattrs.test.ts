import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { LocalSource, MemoryBackend, Repository, type ExtendedAttribute } from '@rustic-ts/core/internal'
import { collect, tempDir } from '../archiver/sources/helpers.js'
import { xattr, xattrsOf, xattrsUnsupported } from '../archiver/sources/xattrHelpers.js'

// a platform where the package has no binary
vi.mock('../../src/util/nativeXattrs.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/util/nativeXattrs.js')>()
  return {
    ...real,
    nativeXattrs: () => undefined,
    nativeXattrsUnavailable: () => 'cannot load @napi-rs/xattr: no binary here (test)',
    nativeXattrsModulePath: () => undefined,
  }
})

const unsupported = xattrsUnsupported()

let base: string
beforeAll(async () => {
  base = await tempDir('noxattr')
  await mkdir(join(base, 'data'))
  await writeFile(join(base, 'data', 'f1'), 'one')
  await writeFile(join(base, 'data', 'f2'), 'two')
  if (!unsupported) xattr.setAttributeSync(join(base, 'data', 'f1'), 'user.x', 'x')
})
afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

describe('without the native xattr package', () => {
  it.each([{ statInWorker: true }, { statInWorker: false }])('a backup stores no xattrs, with one warning (%o)', async ({ statInWorker }) => {
    const warnings: string[] = []
    const source = new LocalSource(['data'], { cwd: base, statInWorker, onWarning: (w) => warnings.push(w) })
    const { entries, errors } = await collect(source)
    await collect(source)
    expect(errors).toEqual([])
    expect(entries.map((e) => e.path)).toEqual(['data', 'data/f1', 'data/f2'])
    expect(entries.every((e) => e.node.extendedAttributes === undefined)).toBe(true)
    expect(warnings).toEqual(['extended attributes are not backed up: cannot load @napi-rs/xattr: no binary here (test)'])
  })

  it('a custom xattrReader still works; readXattrs: false gives no warning', async () => {
    const warnings: string[] = []
    const xattrReader = async (): Promise<ExtendedAttribute[]> => [{ name: 'user.c', value: Buffer.from('c') }]
    const { entries } = await collect(new LocalSource(['data'], { cwd: base, xattrReader, onWarning: (w) => warnings.push(w) }))
    expect(entries.map((e) => e.node.extendedAttributes?.[0]?.name)).toEqual(['user.c', 'user.c', 'user.c'])
    await collect(new LocalSource(['data'], { cwd: base, readXattrs: false, onWarning: (w) => warnings.push(w) }))
    expect(warnings).toEqual([])
  })

  it('a restore sets none, with one warning', async () => {
    const xattrReader = async (): Promise<ExtendedAttribute[]> => [{ name: 'user.r', value: Buffer.from('r') }]
    const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    const src = join(base, 'data')
    await indexed.backup([src], { local: { xattrReader } })
    const { node } = await indexed.resolveSnapshotPath(`latest:${src}`)
    const target = join(base, 'target')
    const plan = await indexed.planRestore(node, target)
    const warnings: string[] = []
    const stats = await indexed.restore(plan, { onWarning: (w) => warnings.push(w) })
    expect(warnings).toEqual(['extended attributes are not restored: cannot load @napi-rs/xattr: no binary here (test)'])
    expect(stats.warnings).toBe(1)
    expect(stats.filesWritten).toBe(2)
    if (!unsupported) for (const f of ['f1', 'f2']) expect(xattrsOf(join(target, f))).toEqual([])
  })
})
