import {
  type WriteBackend,
  hashId,
  MemoryBackend,
  Repository,
  serializeIndex,
  serializePackHeader,
  serializeTree,
  type Id,
  type IndexedRepository,
  type Node,
} from '@rustic-ts/core/internal'

const kdf = { N: 1024, r: 8, p: 1 }

/**
 * A repository (in memory, or in `backend`) whose snapshot's root tree holds a good file, a directory
 * `sub` and, inside `sub`, a file named `badName` (e.g. `../escape`): trees restic never writes, built by hand.
 */
export async function craftedRepo(badName: string, backend: WriteBackend = new MemoryBackend(), password = 'pw'): Promise<IndexedRepository> {
  const repo = await Repository.init({}, { repository: backend }, { password }, { version: 2, kdf })
  const content = new TextEncoder().encode('escaped!\n')
  const dataId = hashId(content)
  const file = (name: string): Node => ({
    name,
    type: 'file',
    mode: 0o644,
    mtime: '2026-01-01T00:00:00Z',
    atime: '2026-01-01T00:00:00Z',
    ctime: '2026-01-01T00:00:00Z',
    uid: 0,
    gid: 0,
    size: content.length,
    content: [dataId],
  })
  const subBytes = serializeTree([file('fine.txt'), file(badName)])
  const subId = hashId(subBytes)
  const dir: Node = { ...file('sub'), type: 'dir', mode: 2 ** 31 + 0o755, size: undefined, content: null, subtree: subId }
  const rootBytes = serializeTree([file('good.txt'), dir])
  const rootId = hashId(rootBytes)
  const blobs: Array<{ type: 'data' | 'tree'; id: Id; plain: Uint8Array }> = [
    { type: 'data', id: dataId, plain: content },
    { type: 'tree', id: subId, plain: subBytes },
    { type: 'tree', id: rootId, plain: rootBytes },
  ]
  const packs = []
  for (const b of blobs) {
    const sealed = repo.dbe.sealBlob(b.plain)
    const entry = { type: b.type, id: b.id, offset: 0, length: sealed.sealed.length, uncompressedLength: sealed.uncompressedLength }
    const header = repo.key.encrypt(serializePackHeader([entry]))
    const len = Buffer.alloc(4)
    len.writeUInt32LE(header.length)
    const pack = Buffer.concat([sealed.sealed, header, len])
    const packId = hashId(pack)
    await repo.backend.writeBytes('pack', packId, b.type === 'tree', pack)
    packs.push({ id: packId, blobs: [entry] })
  }
  await repo.dbe.saveFile('index', serializeIndex({ packs }))
  await repo.saveSnapshot({
    time: '2026-01-01T00:00:00Z',
    tree: rootId,
    paths: ['/crafted'],
    hostname: 'h',
    username: 'u',
    uid: 0,
    gid: 0,
    excludes: [],
    tags: [],
  })
  return repo.toIndexed()
}
