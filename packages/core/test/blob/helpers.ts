import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  hashId,
  Indexer,
  MemoryBackend,
  Packer,
  parseIndex,
  Repository,
  type BlobType,
  type Id,
  type IndexFile,
  type IndexPack,
  type PackerOptions,
  type WriteBackend,
} from '@rustic-ts/core/internal'

export const fastKdf = { N: 1024, r: 8, p: 1 }
export const password = 'blob-test-pw'

/** A blob to pack. */
export interface TestBlob {
  type: BlobType
  id: Id
  data: Uint8Array
}

/** A new repository on `backend` (a MemoryBackend by default). */
export async function newRepo(version: 1 | 2, backend: WriteBackend = new MemoryBackend()): Promise<{ backend: WriteBackend; repo: Repository }> {
  const repo = await Repository.init({}, { repository: backend }, { password }, { version, kdf: fastKdf })
  return { backend, repo }
}

/** A temp directory, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-blob-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * `count` random blobs of mixed sizes: mostly small (0.1–8 KiB), some up to `maxSize`; half of them
 * compressible (repeated text). Every 5th is a tree blob.
 */
export function randomBlobs(count: number, maxSize = 256 * 1024): TestBlob[] {
  const blobs: TestBlob[] = []
  for (let i = 0; i < count; i++) {
    const big = i % 17 === 0
    const size = big ? 1 + Math.floor(Math.random() * maxSize) : 100 + Math.floor(Math.random() * 8 * 1024)
    const data = i % 2 === 0 ? new Uint8Array(randomBytes(size)) : new TextEncoder().encode(`blob ${i} ${'abcdefgh'.repeat(Math.ceil(size / 8))}`.slice(0, size))
    blobs.push({ type: i % 5 === 0 ? 'tree' : 'data', id: hashId(data), data })
  }
  return blobs
}

/** Packs `blobs` with one packer per type sharing one indexer; returns both packers' stats and the index files written. */
export async function packAll(
  repo: Repository,
  blobs: TestBlob[],
  options: { packer?: PackerOptions; indexer?: ConstructorParameters<typeof Indexer>[1]; concurrency?: number } = {},
): Promise<{ indexer: Indexer; packers: Record<BlobType, Packer>; indexFiles: Id[] }> {
  const indexed = await repo.toIndexed()
  const indexer = new Indexer(repo.dbe, options.indexer)
  const packers = {
    data: new Packer(repo.dbe, 'data', indexer, indexed.index, options.packer),
    tree: new Packer(repo.dbe, 'tree', indexer, indexed.index, options.packer),
  }
  // several "files" adding at once
  const lanes = options.concurrency ?? 4
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < blobs.length; i += lanes) {
        const b = blobs[i]!
        await packers[b.type].add(b.id, b.data)
      }
    }),
  )
  await packers.data.finalize()
  await packers.tree.finalize()
  const indexFiles = await indexer.finalize()
  return { indexer, packers, indexFiles }
}

/** All index files of a repository, parsed. */
export async function readIndexFiles(repo: Repository): Promise<Map<Id, IndexFile>> {
  const out = new Map<Id, IndexFile>()
  for (const id of await repo.backend.list('index')) {
    out.set(id, parseIndex(await repo.dbe.readEncryptedFull('index', id), `index ${id}`))
  }
  return out
}

/** All packs of all index files. */
export async function indexedPacks(repo: Repository): Promise<IndexPack[]> {
  return [...(await readIndexFiles(repo)).values()].flatMap((f) => f.packs)
}
