import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ALL_FILE_TYPES, MemoryBackend, parseIndex, Repository, type Id, type IndexFile, type WriteBackend } from '@rustic-ts/core/internal'

/** Password of the fixture's repository. */
export const PASSWORD = 'check-test-pw'
const fastKdf = { N: 1024, r: 8, p: 1 }

/** A repository in memory (with a hot part when asked) holding two snapshots of a small tree. */
export interface TwoBackups {
  cold: MemoryBackend
  hot?: MemoryBackend
  /** The first snapshot: `keep/` only. */
  snap1: Id
  /** The second snapshot: `keep/` and `lost/`, whose data went into a pack of its own. */
  snap2: Id
  /** The data pack holding `lost/`'s content (only the second snapshot uses it). */
  lostPack: Id
  /** The source directory (absolute); the snapshots' paths. */
  src: string
  /** Files in the source: path relative to `src` -> content. */
  files: Map<string, Uint8Array>
  cleanup: () => Promise<void>
}

/** Builds the fixture: backs up `keep/` (a small and a 1.5 MiB file, an empty directory), then adds `lost/` and backs up again. */
export async function twoBackups(options: { hot?: boolean } = {}): Promise<TwoBackups> {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-check-'))
  const src = join(dir, 'src')
  const files = new Map<string, Uint8Array>([
    ['keep/small.txt', Buffer.from('hello check\n')],
    ['keep/big1.bin', randomBytes(1536 * 1024)],
  ])
  await mkdir(join(src, 'keep'), { recursive: true })
  await mkdir(join(src, 'empty'))
  for (const [p, data] of files) await writeFile(join(src, p), data)
  const cold = new MemoryBackend('cold')
  const hot = options.hot ? new MemoryBackend('hot') : undefined
  const backends = { repository: cold, ...(hot ? { repoHot: hot } : {}) }
  const repo = await Repository.init({}, backends, { password: PASSWORD }, { kdf: fastKdf })
  const snap1 = (await (await repo.toIndexed()).backup([src])).snapshot.id!
  const before = new Set(await cold.list('pack'))
  const lost = new Map<string, Uint8Array>([
    ['lost/big2.bin', randomBytes(1200 * 1024)],
    ['lost/note.txt', Buffer.from('this one goes missing\n')],
  ])
  await mkdir(join(src, 'lost'))
  for (const [p, data] of lost) {
    await writeFile(join(src, p), data)
    files.set(p, data)
  }
  const snap2 = (await (await repo.toIndexed()).backup([src])).snapshot.id!
  const index = await readIndex(repo)
  const lostPack = (await cold.list('pack')).find(
    (id) => !before.has(id) && index.some((f) => f.packs.some((p) => p.id === id && p.blobs[0]?.type === 'data')),
  )!
  return { cold, hot, snap1, snap2, lostPack, src, files, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

async function readIndex(repo: Repository): Promise<IndexFile[]> {
  const out: IndexFile[] = []
  for (const id of await repo.backend.list('index')) out.push(parseIndex(await repo.dbe.readEncryptedFull('index', id), `index ${id}`))
  return out
}

/** A copy of a memory backend, to damage without touching the original. */
export async function copyBackend(from: WriteBackend): Promise<MemoryBackend> {
  const to = new MemoryBackend(from.location())
  for (const type of ALL_FILE_TYPES) {
    for (const id of await from.list(type)) await to.writeBytes(type, id, false, await from.readFull(type, id))
  }
  return to
}

/** Opens copies of the fixture's backends. */
export async function openCopy(f: TwoBackups): Promise<{ repo: Repository; cold: MemoryBackend; hot?: MemoryBackend }> {
  const cold = await copyBackend(f.cold)
  const hot = f.hot ? await copyBackend(f.hot) : undefined
  const repo = await Repository.open({}, { repository: cold, ...(hot ? { repoHot: hot } : {}) }, { password: PASSWORD })
  return { repo, cold, ...(hot ? { hot } : {}) }
}

/** Flips one bit of a stored file. */
export async function flipByte(backend: WriteBackend, type: Parameters<WriteBackend['readFull']>[0], id: Id, offset: number): Promise<void> {
  const data = Uint8Array.from(await backend.readFull(type, id))
  data[offset]! ^= 1
  await backend.writeBytes(type, id, false, data)
}
