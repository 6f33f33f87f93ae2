import { randomBytes } from 'node:crypto'
import {
  CONFIG_ID,
  MemoryBackend,
  Repository,
  formatGoTime,
  parseIndex,
  serializeConfig,
  type Id,
  type IndexFile,
  type Node,
  type ReadSource,
  type ReadSourceEntry,
  type RepositoryOptions,
  type WriteBackend,
} from '@rustic-ts/core/internal'

/** Password of the test repositories. */
export const password = 'prune-test-pw'

/** A backup source made in memory: one directory `/data` with the given files. */
export class FilesSource implements ReadSource {
  constructor(private readonly files: Record<string, Uint8Array>) {}

  async size() {
    return undefined
  }

  async *entries(): AsyncIterable<ReadSourceEntry> {
    const time = formatGoTime(1_700_000_000_000_000_000n)
    const base = { mtime: time, atime: time, ctime: time, uid: 0, gid: 0 }
    yield { path: '/data', node: { ...base, name: 'data', type: 'dir', mode: 2 ** 31 + 0o755, content: null } as Node }
    for (const name of Object.keys(this.files).sort()) {
      const data = this.files[name]!
      yield {
        path: `/data/${name}`,
        node: { ...base, name, type: 'file', mode: 0o644, size: data.length, content: [] },
        open: async function* () {
          yield data
        },
      }
    }
  }
}

/** `n` files of `size` random bytes named `prefix0`, `prefix1`, ... */
export function randomFiles(prefix: string, n: number, size = 20_000): Record<string, Uint8Array> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, randomBytes(size)]))
}

/**
 * A new repository on `backend` whose packs are small (data 64 KiB, trees 16 KiB, fixed): a few files make
 * several packs. restic ignores these config fields.
 */
export async function smallPackRepo(
  backend: WriteBackend = new MemoryBackend(),
  version: 1 | 2 = 2,
): Promise<{ backend: WriteBackend; repo: Repository; open: (o?: RepositoryOptions) => Promise<Repository> }> {
  const first = await Repository.init({}, { repository: backend }, { password }, { version, kdf: { N: 1024, r: 8, p: 1 } })
  const config = { ...first.config, datapackSize: 64 * 1024, datapackGrowfactor: 0, treepackSize: 16 * 1024, treepackGrowfactor: 0 }
  await backend.remove('config', CONFIG_ID, false)
  await backend.writeBytes('config', CONFIG_ID, false, first.key.encrypt(serializeConfig(config)))
  await first.close()
  const open = (o: RepositoryOptions = {}): Promise<Repository> => Repository.open({ noCache: true, ...o }, { repository: backend }, { password })
  return { backend, repo: await open(), open }
}

/** Backs up the files as `/data`; returns the snapshot id. */
export async function backupFiles(repo: Repository, files: Record<string, Uint8Array>): Promise<Id> {
  const indexed = await repo.toIndexed()
  const r = await indexed.backup(new FilesSource(files), { snapshotPaths: ['/data'] })
  return r.snapshot.id!
}

/** Every file of a snapshot's `/data`, read back through a freshly loaded index. */
export async function readFiles(repo: Repository, snapshotId: Id): Promise<Record<string, Buffer>> {
  const indexed = await repo.toIndexed()
  const { node } = await indexed.resolveSnapshotPath(`${snapshotId}:/data`)
  const out: Record<string, Buffer> = {}
  for await (const e of indexed.walk(node, '')) {
    const parts: Uint8Array[] = []
    for await (const p of indexed.readFile(e.node)) parts.push(p)
    out[e.node.name] = Buffer.concat(parts)
  }
  return out
}

/** Every index file, decoded. */
export async function indexFiles(repo: Repository): Promise<Array<{ id: Id; file: IndexFile }>> {
  const ids = await repo.backend.list('index')
  return Promise.all(ids.map(async (id) => ({ id, file: parseIndex(await repo.dbe.readEncryptedFull('index', id), id) })))
}

/** Ids of the packs listed under `packs_to_delete`, and of those listed as packs. */
export async function indexedPacks(repo: Repository): Promise<{ packs: Set<Id>; marked: Set<Id> }> {
  const packs = new Set<Id>()
  const marked = new Set<Id>()
  for (const { file } of await indexFiles(repo)) {
    for (const p of file.packs) packs.add(p.id)
    for (const p of file.packsToDelete ?? []) marked.add(p.id)
  }
  return { packs, marked }
}

/** Ids of the pack files. */
export async function packFiles(repo: Repository): Promise<Set<Id>> {
  return new Set(await repo.backend.list('pack'))
}
