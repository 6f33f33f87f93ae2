import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ForwardingBackend,
  MemoryBackend,
  StreamSource,
  isRusticError,
  type CallOptions,
  type FileType,
  type Id,
  type IndexedRepository,
  type Repository,
} from '@rustic-ts/core/internal'
import { lockFiles, memoryRepo, plantLock } from '../../repository/lock/helpers.js'

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

/** A stream source giving `data`, running `midway` after the first half. */
function source(data: Uint8Array, midway: () => Promise<void> = async () => {}): StreamSource {
  return new StreamSource(async function* () {
    yield data.subarray(0, data.length >> 1)
    await midway()
    yield data.subarray(data.length >> 1)
  }, 'data.bin')
}

async function readBack(repo: Repository, snapshotId: string): Promise<Buffer> {
  const indexed = await repo.toIndexed()
  const { node } = await indexed.resolveSnapshotPath(`${snapshotId}:/data.bin`)
  const parts: Uint8Array[] = []
  for await (const p of indexed.readFile(node)) parts.push(p)
  return Buffer.concat(parts)
}

async function counts(repo: Repository): Promise<{ packs: number; index: number; snapshots: number; locks: number }> {
  const [packs, index, snapshots, locks] = await Promise.all(
    (['pack', 'index', 'snapshot', 'lock'] as const).map(async (t) => (await repo.backend.list(t)).length),
  )
  return { packs: packs!, index: index!, snapshots: snapshots!, locks: locks! }
}

describe('backup and locks', () => {
  it('holds a shared lock while it runs and removes it at the end', async () => {
    const { repo } = await memoryRepo()
    const indexed = await repo.toIndexed()
    let during: Awaited<ReturnType<typeof lockFiles>> = []
    const data = randomBytes(200_000)
    const r = await indexed.backup(source(data, async () => void (during = await lockFiles(repo))))
    expect(during).toHaveLength(1)
    expect(during[0]!.lock).toMatchObject({ exclusive: false, pid: process.pid })
    expect(r.saved).toBe(true)
    expect((await counts(repo)).locks).toBe(0)
    expect((await readBack(repo, r.snapshot.id!)).equals(data)).toBe(true)
  })

  it('fails before writing anything while another client holds an exclusive lock', async () => {
    const { repo } = await memoryRepo()
    const indexed = await repo.toIndexed()
    await plantLock(repo, { exclusive: true, hostname: 'pruner', pid: 31337 })
    const err = await errorOf(indexed.backup(source(randomBytes(1000))))
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    expect((err as Error).message).toContain('exclusive lock of PID 31337 on host "pruner"')
    expect(await counts(repo)).toEqual({ packs: 0, index: 0, snapshots: 0, locks: 1 })
  })

  it('ends without writing the snapshot when its lock is removed while it runs', async () => {
    const { repo } = await memoryRepo()
    const indexed = await repo.toIndexed()
    const removeOurLock = async (): Promise<void> => {
      for (const { id } of await lockFiles(repo)) await repo.backend.remove('lock', id as never, false)
    }
    const err = await errorOf(indexed.backup(source(randomBytes(300_000), removeOurLock)))
    expect(isRusticError(err, 'LockLost')).toBe(true)
    expect((err as Error).message).toMatch(/^the shared lock on memory:.* was lost: lock [0-9a-f]{8} was removed by another client/)
    expect((await counts(repo)).snapshots).toBe(0)
  })

  it('loads the index again when another client rewrote it since it was loaded (e.g. restic prune)', async () => {
    const { repo, open } = await memoryRepo()
    const data = randomBytes(400_000)
    const first = await (await repo.toIndexed()).backup(source(data))
    const stale: IndexedRepository = await repo.toIndexed() // knows the blobs of `data`
    // another client forgets the snapshot and prunes everything it referenced
    const other = await open()
    await other.deleteSnapshots([first.snapshot.id!])
    for (const t of ['pack', 'index'] as const) for (const id of await other.backend.list(t)) await other.backend.remove(t, id, false)
    const second = await stale.backup(source(data))
    expect(second.snapshot.summary!.dataAdded).toBeGreaterThanOrEqual(data.length) // uploaded again, not deduplicated
    expect((await readBack(await open(), second.snapshot.id!)).equals(data)).toBe(true)
  })
})

/**
 * A memory backend that logs reads, lists and writes by file type, and runs `onRecheck` before the second
 * listing of the locks since `reset()` (the recheck after writing a lock) is answered.
 */
class Watched extends ForwardingBackend {
  log: string[] = []
  private lockLists = 0
  onRecheck: (() => Promise<void>) | undefined

  constructor() {
    super(new MemoryBackend())
  }

  reset(onRecheck?: () => Promise<void>): void {
    this.log = []
    this.lockLists = 0
    this.onRecheck = onRecheck
  }

  override async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    const recheck = type === 'lock' && ++this.lockLists === 2 ? this.onRecheck : undefined
    if (recheck) await recheck()
    this.log.push(`list ${type}`)
    return super.list(type, options)
  }

  override readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    this.log.push(`read ${type}`)
    return super.readFull(type, id, options)
  }

  override readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, options?: CallOptions): Promise<Uint8Array> {
    this.log.push(`read ${type}`)
    return super.readPartial(type, id, cacheable, offset, length, options)
  }

  override writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    this.log.push(`write ${type}`)
    return super.writeBytes(type, id, cacheable, data, options)
  }
}

/** Waits (up to 10 s) until `ok()`; resolves with its last answer. */
async function eventually(ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10))
  return ok()
}

describe('backup of local paths while its lock is taken', () => {
  const tree = async (): Promise<{ dir: string; remove: () => Promise<void> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'rustic-backup-locking-'))
    for (let i = 0; i < 5; i++) await writeFile(join(dir, `f${i}.bin`), randomBytes(30_000))
    return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
  }

  /**
   * A repository with a backup of `dir`, an indexed repository of another client that knows its blobs
   * (`stale`), and a backend that, just before the next lock recheck, lets a third client forget that
   * snapshot and prune everything it referenced.
   */
  const prunedAtRecheck = async (dir: string) => {
    const backend = new Watched()
    const { repo, open } = await memoryRepo(backend)
    const first = await (await repo.toIndexed()).backup([dir])
    const stale = await (await open()).toIndexed()
    backend.reset(async () => {
      const other = await open({ lock: false })
      await other.deleteSnapshots([first.snapshot.id!])
      for (const t of ['pack', 'index'] as const) for (const id of await other.backend.list(t)) await other.backend.remove(t, id, false)
    })
    return { backend, repo, open, stale }
  }

  it('reads the parent snapshot before the lock is held, and writes nothing (pack, index, snapshot) until it is', async () => {
    const { dir, remove } = await tree()
    try {
      const backend = new Watched()
      const { repo, open } = await memoryRepo(backend)
      await (await repo.toIndexed()).backup([dir])
      await writeFile(join(dir, 'new.bin'), randomBytes(40_000))
      const indexed = await (await open()).toIndexed() // another client: no tree in memory
      let parentReadFirst = false
      backend.reset(async () => void (parentReadFirst = await eventually(() => backend.log.includes('read pack'))))
      const r = await indexed.backup([dir])
      expect(parentReadFirst).toBe(true)
      const log = backend.log
      const recheck = log.indexOf('list lock', log.indexOf('list lock') + 1)
      const writes = log.map((e, i) => [e, i] as const).filter(([e]) => /^write (pack|index|snapshot)$/.test(e))
      expect(writes.map(([e]) => e)).toEqual(['write pack', 'write pack', 'write index', 'write snapshot'])
      expect(writes.every(([, i]) => i > recheck)).toBe(true)
      expect(r.snapshot.summary).toMatchObject({ filesNew: 1, filesUnmodified: 5 })
      expect((await counts(repo)).locks).toBe(0)
    } finally {
      await remove()
    }
  })

  it('stops and writes nothing when the recheck finds an exclusive lock', async () => {
    const { dir, remove } = await tree()
    try {
      const backend = new Watched()
      const { repo } = await memoryRepo(backend)
      const indexed = await repo.toIndexed()
      backend.reset(async () => void (await plantLock(repo, { exclusive: true, hostname: 'pruner', pid: 31337 })))
      const err = await errorOf(indexed.backup([dir]))
      expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
      expect((err as Error).message).toContain('exclusive lock of PID 31337 on host "pruner"')
      expect(await counts(repo)).toEqual({ packs: 0, index: 0, snapshots: 0, locks: 1 })
      expect(backend.log.filter((e) => e.startsWith('write') && e !== 'write lock')).toEqual([])
    } finally {
      await remove()
    }
  })

  it('backs up again on the index loaded anew when another client pruned before the lock was held', async () => {
    const { dir, remove } = await tree()
    try {
      const { backend, repo, open, stale } = await prunedAtRecheck(dir)
      const second = await stale.backup([dir])
      expect(backend.log.filter((e) => e === 'list snapshot')).toHaveLength(2) // the parent was looked for twice
      expect(second.snapshot.parent).toBeUndefined()
      expect(second.snapshot.summary).toMatchObject({ filesNew: 5, filesUnmodified: 0 })
      expect(second.snapshot.summary!.dataAdded).toBeGreaterThanOrEqual(150_000) // uploaded again, not deduplicated
      const check = await (await open()).check()
      expect(check.summary.errors).toBe(0)
      expect(await counts(repo)).toMatchObject({ snapshots: 1, locks: 0 })
    } finally {
      await remove()
    }
  })

  it('two backups of one indexed repository both start again when another client pruned before their lock was held', async () => {
    const { dir, remove } = await tree()
    try {
      const { repo, open, stale } = await prunedAtRecheck(dir)
      const [a, b] = await Promise.all([stale.backup([dir]), stale.backup([dir], { tags: ['b'] })])
      for (const r of [a, b]) expect(r.snapshot.summary).toMatchObject({ filesUnmodified: 0 })
      const check = await (await open()).check()
      expect(check.summary.errors).toBe(0)
      expect(await counts(repo)).toMatchObject({ snapshots: 2, locks: 0 })
    } finally {
      await remove()
    }
  })
})

describe('backup input', () => {
  const tmpTree = async (): Promise<{ dir: string; remove: () => Promise<void> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'rustic-backup-input-'))
    await writeFile(join(dir, 'a.txt'), 'hello\n')
    return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
  }

  it('fails before writing anything when no backup path exists (restic: all target directories/files do not exist)', async () => {
    const { repo } = await memoryRepo()
    const indexed = await repo.toIndexed()
    const err = await errorOf(indexed.backup(['/does/not/exist', '/nor/this']))
    expect(isRusticError(err, 'SourcePathsMissing')).toBe(true)
    expect((err as Error).message).toBe('all backup paths do not exist: /does/not/exist, /nor/this')
    expect(await counts(repo)).toEqual({ packs: 0, index: 0, snapshots: 0, locks: 0 })
  })

  it('skips missing paths with a warning naming each whole path, and backs up the others', async () => {
    const t = await tmpTree()
    try {
      const { repo } = await memoryRepo()
      const indexed = await repo.toIndexed()
      const warnings: string[] = []
      const missing = join(t.dir, 'does', 'not', 'exist')
      const r = await indexed.backup([t.dir, missing], {}, { onWarning: (m) => void warnings.push(m) })
      expect(r.saved).toBe(true)
      expect(r.snapshot.paths).toEqual([t.dir])
      expect(r.skipped).toEqual([{ path: missing, error: 'does not exist' }])
      expect(warnings).toEqual([`${missing} does not exist, skipping`])
    } finally {
      await t.remove()
    }
  })

  it.each([
    ['a source that is no path, no list of paths and no ReadSource (paths: "abc")', { paths: 'abc' }, {}, /^invalid backup source: expected a path, a list of paths or a ReadSource$/],
    ['paths given as an option', 'DIR', { paths: 'abc' }, /^invalid backup options: unknown option "paths"$/],
    ['compression 1.5', 'DIR', { compression: 1.5 }, /^invalid backup options: compression: expected off, auto, max or a zstd level from -131072 to 22$/],
    ['compression ""', 'DIR', { compression: '' }, /^invalid backup options: compression: /],
    ['a huge excludeLargerThan', 'DIR', { local: { excludeLargerThan: '99999999999999999999999T' } }, /^invalid backup options: local\.excludeLargerThan: invalid size "99999999999999999999999T": more than /],
    ['a negative excludeLargerThan', 'DIR', { local: { excludeLargerThan: -1 } }, /^invalid backup options: local\.excludeLargerThan: /],
    ['deleteAfter 99999999999999d', 'DIR', { deleteAfter: '99999999999999d' }, /^invalid backup options: deleteAfter: "99999999999999d" is after the year 9999$/],
    ['deleteAfter nonsense', 'DIR', { deleteAfter: 'soon' }, /^invalid backup options: deleteAfter: invalid duration "soon"/],
    ['an empty host', 'DIR', { host: '' }, /^invalid backup options: host: must not be empty$/],
    ['an empty path', ['DIR', ''], {}, /^invalid backup source: an empty path$/],
  ])('rejects %s with one InvalidOptions line naming it, writing nothing', async (_what, source, options, message) => {
    const t = await tmpTree()
    try {
      const { repo } = await memoryRepo()
      const indexed = await repo.toIndexed()
      const fill = (s: unknown): unknown => (s === 'DIR' ? t.dir : Array.isArray(s) ? s.map(fill) : s)
      const err = await errorOf(indexed.backup(fill(source) as never, options as never))
      expect(isRusticError(err, 'InvalidOptions'), String(err)).toBe(true)
      expect((err as Error).message).toMatch(message)
      expect((err as Error).message).not.toContain('\n')
      expect(await counts(repo)).toEqual({ packs: 0, index: 0, snapshots: 0, locks: 0 })
    } finally {
      await t.remove()
    }
  })
})
