import {
  formatGoTime,
  MemoryBackend,
  Repository,
  type IndexedRepository,
  type Node,
  type ReadSource,
  type ReadSourceEntry,
  type SnapshotFile,
} from '@rustic-ts/core/internal'

/** Cheap scrypt parameters for test keys. */
export const fastKdf = { N: 1024, r: 8, p: 1 }

/** A file of an in-memory snapshot: its content and its mtime (Unix seconds). */
export interface MemoryFile {
  data: string | Uint8Array
  mtime?: number
}

/** A backup source made of `files` (path below the root, `/`-separated -> file), directories implied. */
export class MemorySource implements ReadSource {
  constructor(private readonly files: Record<string, MemoryFile>) {}

  async size() {
    return undefined
  }

  async *entries(): AsyncIterable<ReadSourceEntry> {
    const dirs = new Set<string>()
    for (const p of Object.keys(this.files)) {
      const parts = p.split('/')
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'))
    }
    const all = [...dirs, ...Object.keys(this.files)].sort((a, b) => Buffer.compare(Buffer.from(a.replaceAll('/', '\0')), Buffer.from(b.replaceAll('/', '\0'))))
    for (const p of all) {
      const name = p.slice(p.lastIndexOf('/') + 1)
      const file = this.files[p]
      const time = formatGoTime(BigInt(file?.mtime ?? 1_700_000_000) * 1_000_000_000n)
      const base = { name, mtime: time, atime: time, ctime: time, uid: 0, gid: 0 }
      if (!file) {
        yield { path: `/root/${p}`, node: { ...base, type: 'dir', mode: 2 ** 31 + 0o755, content: null } as Node }
        continue
      }
      const data = typeof file.data === 'string' ? new TextEncoder().encode(file.data) : file.data
      yield {
        path: `/root/${p}`,
        node: { ...base, type: 'file', mode: 0o644, size: data.length, content: [] },
        open: async function* () {
          yield data
        },
      }
    }
  }
}

/** A new in-memory repository, indexed. */
export async function memoryRepo(version: 1 | 2 = 2, password = 'pw', backend = new MemoryBackend()): Promise<IndexedRepository> {
  const repo = await Repository.init({}, { repository: backend }, { password }, { version, kdf: fastKdf })
  return repo.toIndexed()
}

/** Backs up `files` as a snapshot of `/root` taken at `time` (Unix seconds) by host `host`. */
export async function snapshotOf(
  indexed: IndexedRepository,
  files: Record<string, MemoryFile>,
  options: { time?: number; host?: string; tags?: string[] } = {},
): Promise<SnapshotFile> {
  const root: Node = {
    name: 'root',
    type: 'dir',
    mode: 2 ** 31 + 0o755,
    mtime: formatGoTime(1_700_000_000n * 1_000_000_000n),
    atime: formatGoTime(1_700_000_000n * 1_000_000_000n),
    ctime: formatGoTime(1_700_000_000n * 1_000_000_000n),
    uid: 0,
    gid: 0,
    content: null,
  }
  const source: ReadSource = {
    size: async () => undefined,
    entries: async function* () {
      yield { path: '/root', node: root }
      yield* new MemorySource(files).entries()
    },
  }
  const { snapshot } = await indexed.backup(source, {
    noParent: true,
    snapshotPaths: ['/root'],
    host: options.host ?? 'host-a',
    tags: options.tags ?? [],
    time: new Date((options.time ?? 1_700_000_100) * 1000),
  })
  return snapshot
}

/** The files of a snapshot below `/root`: path -> content. */
export async function filesOf(indexed: IndexedRepository, snap: SnapshotFile): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const rootNode = await indexed.nodeAtPath(snap.tree, 'root')
  for await (const { path, node } of indexed.walk(rootNode, '')) {
    if (node.type !== 'file') continue
    const parts: Uint8Array[] = []
    for await (const c of indexed.readFile(node)) parts.push(c)
    out[path] = Buffer.concat(parts).toString()
  }
  return out
}

/** A new in-memory repository whose first key (password `first`) records user `me` on host `box`. */
export async function repoWithKey(): Promise<{ backend: MemoryBackend; repo: Repository }> {
  const backend = new MemoryBackend()
  const repo = await Repository.init({}, { repository: backend }, { password: 'first' }, { kdf: fastKdf, username: 'me', hostname: 'box' })
  return { backend, repo }
}
