import { describe, expect, it } from 'vitest'
import {
  BackendError,
  CONFIG_ID,
  ForwardingBackend,
  MemoryBackend,
  Repository,
  isRusticError,
  serializeConfig,
  type CallOptions,
  type FileType,
  type Id,
} from '@rustic-ts/core/internal'
import { FilesSource, password, backupFiles, indexFiles, indexedPacks, packFiles, randomFiles, readFiles, smallPackRepo } from './helpers.js'

const HOUR = 3_600_000

/** Errors `check --read-data` finds (none expected after any prune). */
async function checkErrors(repo: Repository): Promise<string[]> {
  const r = await repo.check({ readData: true })
  return r.findings.filter((f) => f.level === 'error').map((f) => f.message)
}

/** Records the writes and removals of index and pack files, in order. */
class RecordingBackend extends ForwardingBackend {
  readonly ops: string[] = []
  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    await super.writeBytes(type, id, cacheable, data, options)
    this.ops.push(`write ${type}`)
  }
  override async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    this.ops.push(`remove ${type}`)
    await super.remove(type, id, cacheable, options)
  }
}

/** A backend that may not remove anything but locks, as a REST server in append-only mode. */
class AppendOnlyBackend extends ForwardingBackend {
  override async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    if (type !== 'lock') throw new BackendError('PermissionDenied', `DELETE ${type} ${id}: server answered 403`)
    await super.remove(type, id, cacheable, options)
  }
}

/** Two snapshots of different files; the first removed. Returns the kept snapshot, its files and the removed one's packs. */
async function forgottenFirst(repo: Repository): Promise<{ keep: Id; keptFiles: Record<string, Uint8Array>; goneFiles: Record<string, Uint8Array>; gonePacks: Set<Id> }> {
  const goneFiles = randomFiles('a', 8)
  const gone = await backupFiles(repo, goneFiles)
  const gonePacks = (await indexedPacks(repo)).packs
  const keptFiles = randomFiles('b', 8)
  const keep = await backupFiles(repo, keptFiles)
  await repo.deleteSnapshots([gone])
  return { keep, keptFiles, goneFiles, gonePacks }
}

describe('prune', () => {
  it('marks unneeded packs first and removes them only once keepDelete has passed (injected clock)', async () => {
    const { repo } = await smallPackRepo()
    const { keep, keptFiles, gonePacks } = await forgottenFirst(repo)
    const oldIndex = (await indexFiles(repo)).map((f) => f.id)
    const plan = await repo.planPrune()
    const result = await repo.prune(plan)
    expect(result).toMatchObject({ dryRun: false, packsMarked: gonePacks.size, packsRemoved: 0, packsRecovered: 0, blobsRepacked: 0 })
    expect(result.indexFilesRemoved.sort()).toEqual([...oldIndex].sort())
    expect(result.indexFilesWritten).toHaveLength(1)
    const after = await indexedPacks(repo)
    expect(after.marked).toEqual(gonePacks)
    for (const id of gonePacks) expect(after.packs.has(id)).toBe(false)
    expect([...gonePacks].every((id) => after.marked.has(id))).toBe(true)
    expect((await packFiles(repo)).size).toBe(after.packs.size + after.marked.size) // nothing removed yet
    const marked = (await indexFiles(repo))[0]!.file.packsToDelete!
    expect(marked.every((p) => p.time === plan.time)).toBe(true)
    expect(await readFiles(repo, keep)).toEqual(keptFiles)
    expect(await checkErrors(repo)).toEqual([])

    const t0 = Date.parse(plan.time.replace(/\.\d+/, ''))
    const early = await repo.planPrune({ now: new Date(t0 + 22 * HOUR) })
    expect(early.packs.filter((p) => p.marked).map((p) => p.action)).toEqual([...gonePacks].map(() => 'keepMarked'))
    expect(early.rewriteIndexFiles).toEqual([]) // one index file, nothing to change
    expect(await repo.prune(early)).toMatchObject({ packsRemoved: 0, indexFilesWritten: [], indexFilesRemoved: [] })
    expect((await indexedPacks(repo)).marked).toEqual(gonePacks)

    const late = await repo.planPrune({ now: new Date(t0 + 23 * HOUR + 1000) })
    expect(late.packs.filter((p) => p.marked).every((p) => p.action === 'delete')).toBe(true)
    const done = await repo.prune(late)
    expect(done.packsRemoved).toBe(gonePacks.size)
    expect(done.bytesRemoved).toBe(late.stats.actions.delete.bytes)
    const files = await packFiles(repo)
    for (const id of gonePacks) expect(files.has(id)).toBe(false)
    expect((await indexedPacks(repo)).marked.size).toBe(0)
    expect(await readFiles(repo, keep)).toEqual(keptFiles)
    expect(await checkErrors(repo)).toEqual([])
  })

  it('recovers a marked pack that a backup running next to the prune (without locks) needs again', async () => {
    const { repo, open } = await smallPackRepo()
    const { goneFiles } = await forgottenFirst(repo)
    // a backup that loaded the index before the prune and deduplicates against the forgotten data
    const other = await open({ lock: false })
    let reached!: () => void
    const atSource = new Promise<void>((r) => (reached = r))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const source = new FilesSource(goneFiles)
    const entries = source.entries.bind(source)
    source.entries = async function* () {
      reached()
      await gate
      yield* entries()
    }
    const running = (await other.toIndexed()).backup(source, { snapshotPaths: ['/data'] })
    await atSource
    const first = await repo.prune(await repo.planPrune({ ignoreLocks: true }), {})
    expect(first.packsMarked).toBeGreaterThan(0)
    release()
    const late = await running
    expect(late.snapshot.summary!.dataBlobs).toBe(0) // everything deduplicated against the marked packs
    await expect(readFiles(repo, late.snapshot.id!)).rejects.toThrow(/not in the index/)

    const plan = await repo.planPrune({ ignoreLocks: true })
    const recovered = plan.packs.filter((p) => p.action === 'recover')
    expect(recovered.length).toBeGreaterThan(0)
    expect(recovered.every((p) => p.marked && p.status.includes('hasUsedBlobs'))).toBe(true)
    expect((await repo.prune(plan)).packsRecovered).toBe(recovered.length)
    expect(await readFiles(repo, late.snapshot.id!)).toEqual(goneFiles)
    expect(await checkErrors(repo)).toEqual([])
    const { packs, marked } = await indexedPacks(repo)
    for (const p of recovered) expect([packs.has(p.id), marked.has(p.id)]).toEqual([true, false])
  })

  it('repacks the needed blobs of partly used packs, verified, and marks the old pack', async () => {
    const { repo } = await smallPackRepo()
    const shared = randomFiles('s', 2)
    await backupFiles(repo, { ...shared, ...randomFiles('g', 1) })
    const keep = await backupFiles(repo, shared)
    await repo.deleteSnapshots((await repo.snapshotIds()).filter((id) => id !== keep))
    const plan = await repo.planPrune({ maxUnused: 0, maxRepack: 'unlimited' })
    const old = plan.packs.find((p) => p.action === 'repack' && p.blobType === 'data')!
    const result = await repo.prune(plan)
    expect(result.blobsRepacked).toBe(plan.packs.reduce((n, p) => n + (p.copy?.length ?? 0), 0))
    expect(result.bytesRepacked).toBe(plan.packs.reduce((n, p) => n + (p.copy ?? []).reduce((m, b) => m + b.length, 0), 0))
    expect(result.packsWritten).toBeGreaterThan(0)
    const { packs, marked } = await indexedPacks(repo)
    expect(marked.has(old.id)).toBe(true)
    expect(packs.has(old.id)).toBe(false)
    expect(await readFiles(repo, keep)).toEqual(shared)
    expect(await checkErrors(repo)).toEqual([])
    // nothing left to do but remove what was marked
    const next = await repo.planPrune({ maxUnused: 0, maxRepack: 'unlimited', instantDelete: true })
    expect(next.packs.filter((p) => p.action === 'repack')).toEqual([])
    await repo.prune(next)
    expect((await packFiles(repo)).has(old.id)).toBe(false)
    expect(await readFiles(repo, keep)).toEqual(shared)
  })

  it('repackUncompressed compresses blobs stored uncompressed', async () => {
    const { repo } = await smallPackRepo()
    const text = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`t${i}`, new TextEncoder().encode(`line ${i}\n`.repeat(3000))]))
    const id = (await (await repo.toIndexed()).backup(new FilesSource(text), { compression: 'off', snapshotPaths: ['/data'] })).snapshot.id!
    const uncompressed = (await indexFiles(repo)).flatMap((f) => f.file.packs.flatMap((p) => p.blobs)).filter((b) => b.uncompressedLength === undefined)
    expect(uncompressed.length).toBeGreaterThan(4)
    const plan = await repo.planPrune({ repackUncompressed: true, maxRepack: 'unlimited', instantDelete: true })
    expect(plan.packs.every((p) => p.action === 'repack' && p.status.includes('notCompressed'))).toBe(true)
    const result = await repo.prune(plan)
    expect(result.blobsRepacked).toBe(uncompressed.length)
    const blobs = (await indexFiles(repo)).flatMap((f) => f.file.packs.flatMap((p) => p.blobs))
    expect(blobs.every((b) => b.uncompressedLength !== undefined)).toBe(true)
    expect(await readFiles(repo, id)).toEqual(Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.from(v)])))
  })

  it('writes every new index file before it removes any index file or pack', async () => {
    const backend = new RecordingBackend(new MemoryBackend())
    const { repo } = await smallPackRepo(backend)
    const shared = randomFiles('s', 3)
    await backupFiles(repo, { ...shared, ...randomFiles('g', 5) })
    const keep = await backupFiles(repo, shared)
    await repo.deleteSnapshots((await repo.snapshotIds()).filter((id) => id !== keep))
    backend.ops.length = 0
    const result = await repo.prune(await repo.planPrune({ maxUnused: 0, maxRepack: 'unlimited', instantDelete: true }))
    expect(result.packsRemoved).toBeGreaterThan(0)
    expect(result.packsWritten).toBeGreaterThan(0)
    const ops = backend.ops.filter((o) => !o.endsWith('lock'))
    const lastWrite = Math.max(ops.lastIndexOf('write index'), ops.lastIndexOf('write pack'))
    expect(ops.filter((o) => o === 'write pack').length).toBe(result.packsWritten)
    // first a probe (may files be removed?) of an index file that does not exist, then every write, then the removals
    expect(ops[0]).toBe('remove index')
    const firstRemoval = ops.findIndex((o, i) => i > 0 && o.startsWith('remove'))
    expect(firstRemoval).toBeGreaterThan(lastWrite)
    expect(ops.slice(firstRemoval).every((o) => o.startsWith('remove'))).toBe(true)
    expect(await readFiles(repo, keep)).toEqual(shared)
  })

  it('refuses an append-only repository (config or server) before writing anything; a dry run changes nothing', async () => {
    const { backend, repo, open } = await smallPackRepo()
    await forgottenFirst(repo)
    const before = { index: await repo.backend.list('index'), pack: await repo.backend.list('pack') }
    const dry = await repo.planPrune({ dryRun: true })
    expect(dry.stats.actions.markDelete.packs).toBeGreaterThan(0)
    expect(await repo.prune(dry)).toMatchObject({ dryRun: true, packsMarked: 0, indexFilesWritten: [] })

    const server = await Repository.open({ noCache: true }, { repository: new AppendOnlyBackend(backend) }, { password })
    const refused = await server.prune(await server.planPrune()).catch((e: unknown) => e)
    expect(isRusticError(refused, 'AppendOnly'), String(refused)).toBe(true)
    expect((refused as Error).message).toMatch(/^cannot prune .*: it does not allow removing files/)

    await backend.remove('config', CONFIG_ID, false)
    await backend.writeBytes('config', CONFIG_ID, false, repo.key.encrypt(serializeConfig({ ...repo.config, appendOnly: true })))
    const appendOnly = await open()
    const err = await appendOnly.planPrune().catch((e: unknown) => e)
    expect(isRusticError(err, 'AppendOnly'), String(err)).toBe(true)
    expect((err as Error).message).toContain('append-only')
    expect((await appendOnly.planPrune({ dryRun: true })).packs.length).toBeGreaterThan(0)
    expect(isRusticError(await appendOnly.prune(await repo.planPrune()).catch((e: unknown) => e), 'AppendOnly')).toBe(true)
    expect({ index: await repo.backend.list('index'), pack: await repo.backend.list('pack') }).toEqual(before)
  })

  it('refuses a plan the repository has moved away from (RepositoryChanged), changing nothing', async () => {
    const { repo } = await smallPackRepo()
    await forgottenFirst(repo)
    const plan = await repo.planPrune()
    await backupFiles(repo, randomFiles('c', 1))
    const before = await repo.backend.list('index')
    const err = await repo.prune(plan).catch((e: unknown) => e)
    expect(isRusticError(err, 'RepositoryChanged'), String(err)).toBe(true)
    expect((err as Error).message).toMatch(/^the prune plan is out of date: index [0-9a-f]{8} was added since it was made; nothing was changed/)
    expect(await repo.backend.list('index')).toEqual(before)
  })

  it('forget with the prune option prunes once snapshots are removed, under one lock', async () => {
    const backend = new RecordingBackend(new MemoryBackend())
    const { repo } = await smallPackRepo(backend)
    const gone = randomFiles('a', 4)
    await backupFiles(repo, gone)
    const gonePacks = (await indexedPacks(repo)).packs
    const kept = randomFiles('b', 4)
    const keep = await backupFiles(repo, kept)
    const nothing = await repo.forget(await repo.planForget({ keepLast: 2, prune: true }))
    expect(nothing).toEqual({ removed: [] }) // nothing removed: no prune
    const plan = await repo.planForget({ keepLast: 1, prune: { instantDelete: true } })
    expect(plan.prune).toEqual({ instantDelete: true })
    backend.ops.length = 0
    const result = await repo.forget(plan)
    // one lock file, written before the snapshot is removed and removed after the last pack
    const ops = backend.ops.filter((op) => !op.endsWith(' index'))
    expect(ops[0]).toBe('write lock')
    expect(ops.at(-1)).toBe('remove lock')
    expect(ops.filter((op) => op.endsWith(' lock'))).toEqual(['write lock', 'remove lock'])
    expect(ops).toContain('remove snapshot')
    expect(result.removed).toHaveLength(1)
    expect(result.prune!.plan.snapshots).toEqual([keep])
    expect(result.prune!.result.packsRemoved).toBe(gonePacks.size)
    for (const id of gonePacks) expect((await packFiles(repo)).has(id)).toBe(false)
    expect(await readFiles(repo, keep)).toEqual(kept)
    expect(await repo.backend.list('lock')).toEqual([])
    // invalid prune options are refused by the plan, before forget removes anything
    const bad = await repo.planForget({ keepLast: 0, keepNone: true, prune: { maxUnused: '100%' } }).catch((e: unknown) => e)
    expect(isRusticError(bad, 'InvalidOptions'), String(bad)).toBe(true)
    expect((bad as Error).message).toMatch(/^invalid prune options: maxUnused: invalid size limit "100%"/)
    expect(await repo.snapshotIds()).toEqual([keep])
  })

  it('stops with Aborted', async () => {
    const { repo } = await smallPackRepo()
    await forgottenFirst(repo)
    const ac = new AbortController()
    ac.abort()
    expect(isRusticError(await repo.planPrune({}, { signal: ac.signal }).catch((e: unknown) => e), 'Aborted')).toBe(true)
    const plan = await repo.planPrune()
    expect(isRusticError(await repo.prune(plan, { signal: ac.signal }).catch((e: unknown) => e), 'Aborted')).toBe(true)
  })
})
