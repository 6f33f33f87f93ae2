import { describe, expect, it } from 'vitest'
import {
  isRusticError,
  MemoryBackend,
  Repository,
  serializeIndex,
  serializeTree,
  hashId,
  type Id,
  type Node,
  type SnapshotFile,
} from '@rustic-ts/core/internal'

const fastKdf = { N: 1024, r: 8, p: 1 }
const password = 'secret-pw'

async function newRepo(version: 1 | 2 = 2): Promise<{ backend: MemoryBackend; repo: Repository }> {
  const backend = new MemoryBackend()
  const repo = await Repository.init({}, { repository: backend }, { password }, { version, kdf: fastKdf })
  return { backend, repo }
}

function snapshot(time: string, tree: Id, extra: Partial<SnapshotFile> = {}): SnapshotFile {
  return { time, tree, paths: ['/data'], hostname: 'h', username: 'u', uid: 0, gid: 0, excludes: [], tags: [], ...extra }
}

describe('Repository', () => {
  it('init then open with the password; config and keys round-trip', async () => {
    const { backend, repo } = await newRepo()
    expect(repo.config.version).toBe(2)
    const opened = await Repository.open({}, { repository: backend }, { password })
    expect(opened.id).toBe(repo.id)
    expect(opened.config.chunkerPolynomial).toBe(repo.config.chunkerPolynomial)
    expect(opened.keyId).toBe(repo.keyId)
    expect(await opened.listKeys()).toHaveLength(1)
  })

  it('a wrong password is IncorrectPassword, a missing repository RepositoryNotFound', async () => {
    const { backend } = await newRepo()
    const err = await Repository.open({}, { repository: backend }, { password: 'nope' }).catch((e: unknown) => e)
    expect(isRusticError(err, 'IncorrectPassword')).toBe(true)
    expect((err as Error).message).not.toContain('nope')
    const missing = await Repository.open({}, { repository: new MemoryBackend() }, { password }).catch((e: unknown) => e)
    expect(isRusticError(missing, 'RepositoryNotFound')).toBe(true)
    expect((missing as Error).message).toMatch(/^no repository at /)
  })

  it('tries every key: a second key opens the repository', async () => {
    const { backend, repo } = await newRepo()
    await repo.addKey('other-pw', { kdf: fastKdf })
    const opened = await Repository.open({}, { repository: backend }, { password: 'other-pw' })
    expect(opened.id).toBe(repo.id)
    expect(await opened.listKeys()).toHaveLength(2)
  })

  it('init refuses an existing repository', async () => {
    const { backend } = await newRepo()
    const err = await Repository.init({}, { repository: backend }, { password }, { kdf: fastKdf }).catch((e: unknown) => e)
    expect(isRusticError(err, 'RepositoryExists')).toBe(true)
  })

  it('resolves latest, latest~N, prefixes, and reports ambiguous prefixes with the candidates', async () => {
    const { repo } = await newRepo()
    const tree = hashId(new Uint8Array([1]))
    const ids: Id[] = []
    for (let i = 0; i < 40; i++) {
      ids.push(await repo.saveSnapshot(snapshot(`2026-01-${String(i % 28 + 1).padStart(2, '0')}T10:00:0${i % 10}Z`, tree, { tags: i % 2 ? ['odd'] : [] })))
    }
    const all = await repo.getSnapshots()
    expect(all).toHaveLength(40)
    const latest = await repo.findSnapshot('latest')
    expect(latest.id).toBe(all[39]!.id)
    expect((await repo.findSnapshot('latest~2')).id).toBe(all[37]!.id)
    expect((await repo.findSnapshot('latest', { tags: [['odd']] })).tags).toEqual(['odd'])
    expect((await repo.findSnapshot(ids[3]!.slice(0, 12))).id).toBe(ids[3])
    expect((await repo.findSnapshot(ids[3]!)).id).toBe(ids[3])
    // Among 40 random ids, some share their first hex digit: that one-character prefix is ambiguous.
    const counts = new Map<string, number>()
    for (const id of ids) counts.set(id[0]!, (counts.get(id[0]!) ?? 0) + 1)
    const shared = [...counts].find(([, n]) => n > 1)![0]
    const err = await repo.findSnapshot(shared).catch((e: unknown) => e)
    expect(isRusticError(err, 'AmbiguousId')).toBe(true)
    expect((err as Error).message).toContain(ids.find((i) => i.startsWith(shared))!.slice(0, 8))
    await expect(repo.findSnapshot('latest~99')).rejects.toThrow(/only 40 snapshots/)
  })

  it('toIndexed reads trees and files through the index, and walks paths', async () => {
    for (const version of [1, 2] as const) {
      const { repo } = await newRepo(version)
      // Hand-build a pack with one data blob and one tree, plus its index, through the encryption layer.
      const content = new TextEncoder().encode('file content\n')
      const dataId = hashId(content)
      const file: Node = {
        name: 'f.txt', type: 'file', mode: 0o644, mtime: '2026-01-01T00:00:00Z', atime: '2026-01-01T00:00:00Z',
        ctime: '2026-01-01T00:00:00Z', uid: 0, gid: 0, size: content.length, content: [dataId],
      }
      const treeBytes = serializeTree([file])
      const treeId = hashId(treeBytes)
      const d = repo.dbe.sealBlob(content)
      const t = repo.dbe.sealBlob(treeBytes)
      const { serializePackHeader } = await import('@rustic-ts/core/internal')
      const mkPack = async (type: 'data' | 'tree', id: Id, sealed: { sealed: Uint8Array; uncompressedLength?: number }) => {
        const header = repo.key.encrypt(serializePackHeader([{ type, id, offset: 0, length: sealed.sealed.length, uncompressedLength: sealed.uncompressedLength }]))
        const len = new Uint8Array(4)
        new DataView(len.buffer).setUint32(0, header.length, true)
        const pack = Buffer.concat([sealed.sealed, header, len])
        const packId = hashId(pack)
        await repo.backend.writeBytes('pack', packId, type === 'tree', pack)
        return { id: packId, blobs: [{ id, type, offset: 0, length: sealed.sealed.length, uncompressedLength: sealed.uncompressedLength }] }
      }
      const packs = [await mkPack('data', dataId, d), await mkPack('tree', treeId, t)]
      await repo.dbe.saveFile('index', serializeIndex({ packs }))
      await repo.saveSnapshot(snapshot('2026-01-01T00:00:00Z', treeId))
      const indexed = await repo.toIndexed()
      const { node, path } = await indexed.resolveSnapshotPath('latest:/f.txt')
      expect(path).toBe('/f.txt')
      const chunks: Uint8Array[] = []
      for await (const c of indexed.readFile(node)) chunks.push(c)
      expect(Buffer.concat(chunks).toString()).toBe('file content\n')
      const walked: string[] = []
      for await (const e of indexed.walk((await indexed.resolveSnapshotPath('latest')).node, '')) walked.push(e.path)
      expect(walked).toEqual(['/f.txt'])
      // the walk keeps its trees in the tree cache (getTree then gives the very nodes it yielded), unless told not to
      for (const cacheTrees of [true, false]) {
        const fresh = await repo.toIndexed()
        const nodes: unknown[] = []
        for await (const e of fresh.walk((await fresh.resolveSnapshotPath('latest')).node, '', { cacheTrees })) nodes.push(e.node)
        expect(nodes).toHaveLength(1)
        expect((await fresh.getTree(treeId))[0] === nodes[0]).toBe(cacheTrees)
      }
      const latest = (await repo.findSnapshot('latest')).id!.slice(0, 8)
      await expect(indexed.resolveSnapshotPath('latest:/nope')).rejects.toMatchObject({ code: 'PathNotFound', message: `path /nope not found in snapshot ${latest}` })
      // the whole path is named, then the first part of it that is missing
      await expect(indexed.resolveSnapshotPath('latest:/nope/deeper/f')).rejects.toMatchObject({
        code: 'PathNotFound',
        message: `path /nope/deeper/f not found in snapshot ${latest}: /nope does not exist`,
      })
      expect(Buffer.from(await indexed.catBlob(dataId.slice(0, 10))).toString()).toBe('file content\n')
      expect(await indexed.catTree('latest')).toEqual(treeBytes)
      await expect(indexed.catTree('latest:/f.txt')).rejects.toMatchObject({ code: 'NotADirectory' })
    }
  })

  it('catFile gives the decrypted config, snapshots and index files (by id prefix) and key files as stored', async () => {
    const { backend, repo } = await newRepo()
    const id = await repo.saveSnapshot(snapshot('2026-01-01T00:00:00Z', hashId(new Uint8Array(1))))
    expect(JSON.parse(Buffer.from(await repo.catFile('config')).toString())).toMatchObject({ id: repo.id, version: 2 })
    expect(JSON.parse(Buffer.from(await repo.catFile('snapshot', id.slice(0, 8))).toString())).toMatchObject({ hostname: 'h' })
    expect(await repo.catFile('key', repo.keyId!)).toEqual(await backend.readFull('key', repo.keyId!))
    await expect(repo.catFile('snapshot', 'ffffffff')).rejects.toMatchObject({ code: 'IdNotFound' })
  })

  it("commands report through the control's progress and warning handler, else the repository's", async () => {
    const { backend } = await newRepo()
    const titles = (into: string[]) => (_kind: string, title: string) => {
      into.push(title)
      return { setLength() {}, setTitle() {}, inc() {}, finish() {} }
    }
    const fromRepo: string[] = []
    const fromControl: string[] = []
    const repo = await Repository.open({ progress: titles(fromRepo) }, { repository: backend }, { password })
    await repo.getSnapshots()
    await repo.getSnapshots({}, { progress: titles(fromControl) })
    expect(fromRepo).toEqual(['reading snapshots'])
    expect(fromControl).toEqual(['reading snapshots'])
    const ac = new AbortController()
    ac.abort()
    await expect(repo.deleteSnapshots([hashId(new Uint8Array(1))], {}, { signal: ac.signal })).rejects.toMatchObject({ code: 'Aborted' })
  })

  it('invalid options and controls are one InvalidOptions error naming the field', async () => {
    const { backend, repo } = await newRepo()
    await expect(Repository.open({ concurrency: 0 }, { repository: backend }, { password })).rejects.toMatchObject({
      code: 'InvalidOptions',
      message: expect.stringMatching(/^invalid repository options: concurrency: /),
    })
    await expect(repo.getSnapshots({}, { progress: 'loud' } as never)).rejects.toMatchObject({
      code: 'InvalidOptions',
      message: expect.stringContaining('progress'),
    })
    const indexed = await repo.toIndexed()
    const root = { name: '', type: 'dir' as const, mode: 0, mtime: '', atime: '', ctime: '', uid: 0, gid: 0, content: null, subtree: hashId(new Uint8Array(1)) }
    await expect(indexed.walk(root, '', { recursive: 'yes' } as never).next()).rejects.toMatchObject({
      code: 'InvalidOptions',
      message: 'invalid walk options: recursive: expected boolean, received string',
    })
    await expect(indexed.planRestore(root, '/nonexistent-target', { signal: new AbortController().signal } as never)).rejects.toMatchObject({
      message: 'invalid restore options: "signal" belongs in the control argument (the last one), not in the options',
    })
  })
})
