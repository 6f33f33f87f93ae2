import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { LocalSource, MemoryBackend, Repository, type ReadSource, type ReadSourceEntry } from '@rustic-ts/core/internal'
import { acquireDirectoryWorker, releaseDirectoryWorker } from '../../src/archiver/sources/DirectoryWorker.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-small-'))
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

/**
 * Wraps a source and changes a file on disk right after its entry is listed, before the archiver reads it.
 * `asked` gets the options of each walk; with `noEmptyCheck` the walk does not check empty files as it lists them.
 */
function tamperAfterListing(
  inner: ReadSource,
  tamper: (e: ReadSourceEntry) => Promise<void>,
  { asked = [], noEmptyCheck = false }: { asked?: Array<boolean | undefined>; noEmptyCheck?: boolean } = {},
): ReadSource {
  return {
    size: (o) => inner.size(o),
    async *entries(o) {
      asked.push(o?.checkEmptyFiles)
      for await (const e of inner.entries(noEmptyCheck ? { ...o, checkEmptyFiles: false } : o)) {
        await tamper(e)
        yield e
      }
    },
  }
}

describe('small local files read on the seal workers', () => {
  it('a file removed after listing is skipped and reported; one that grew past a chunk is read in full', async () => {
    const src = join(dir, 'src')
    await mkdir(src)
    await writeFile(join(src, 'gone.txt'), 'soon gone')
    await writeFile(join(src, 'grows.bin'), 'small at first')
    await writeFile(join(src, 'kept.txt'), 'kept')
    await writeFile(join(src, 'empty'), '')
    const extra = randomBytes(9 * 1024 * 1024) // over the 8 MiB maximum chunk: at least two chunks
    const source = tamperAfterListing(new LocalSource([src]), async (e) => {
      if (e.path.endsWith('/gone.txt')) await rm(join(src, 'gone.txt'))
      if (e.path.endsWith('/grows.bin')) await appendFile(join(src, 'grows.bin'), extra)
    })
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    const result = await indexed.backup(source, { sealWorkers: 2, snapshotPaths: [src] })
    expect(result.skipped.map((s) => s.path)).toEqual([`${src}/gone.txt`])
    expect(result.skipped[0]!.error).toMatch(/ENOENT|no such file/)
    const read = async (name: string): Promise<Buffer> => {
      const { node } = await indexed.resolveSnapshotPath(`latest:${src}/${name}`)
      const parts: Uint8Array[] = []
      for await (const c of indexed.readFile(node)) parts.push(c)
      return Buffer.concat(parts)
    }
    expect((await read('kept.txt')).toString()).toBe('kept')
    expect((await read('empty')).length).toBe(0)
    expect(Buffer.compare(await read('grows.bin'), await readFile(join(src, 'grows.bin')))).toBe(0)
    const { node } = await indexed.resolveSnapshotPath(`latest:${src}/grows.bin`)
    expect(node.size).toBe(14 + extra.length)
    expect(node.content!.length).toBeGreaterThan(1)
  })

  it('a file listed empty is read when it has content by then; one still empty gets no blob', async () => {
    const src = join(dir, 'empties')
    await mkdir(src)
    await writeFile(join(src, 'fills'), '')
    await writeFile(join(src, 'stays'), '')
    // a source that does not check empty files as it lists them: the archiver checks them
    const source = tamperAfterListing(
      new LocalSource([src]),
      async (e) => {
        if (e.path.endsWith('/fills')) await appendFile(join(src, 'fills'), 'written after listing')
      },
      { noEmptyCheck: true },
    )
    const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    const result = await indexed.backup(source, { sealWorkers: 1, snapshotPaths: [src] })
    expect(result.skipped).toEqual([])
    const fills = (await indexed.resolveSnapshotPath(`latest:${src}/fills`)).node
    expect(fills.size).toBe(21)
    const parts: Uint8Array[] = []
    for await (const c of indexed.readFile(fills)) parts.push(c)
    expect(Buffer.concat(parts).toString()).toBe('written after listing')
    const stays = (await indexed.resolveSnapshotPath(`latest:${src}/stays`)).node
    expect(stays.content).toEqual([])
    expect(stays.size ?? 0).toBe(0)
  })

  it('without a parent the walk checks the files listed empty as it lists them; with one it does not', async () => {
    const src = join(dir, 'checked')
    await mkdir(src)
    await writeFile(join(src, 'fills'), '')
    await writeFile(join(src, 'stays'), '')
    const asked: Array<boolean | undefined> = []
    const flags = new Map<string, boolean | undefined>()
    const source = tamperAfterListing(
      new LocalSource([src]),
      async (e) => {
        flags.set(e.node.name, e.empty)
        if (e.path.endsWith('/fills') && asked.length === 1) await appendFile(join(src, 'fills'), 'written after listing')
      },
      { asked },
    )
    const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    // the walk's worker running before it starts (a listing needed before that comes from the main thread, unchecked)
    const worker = acquireDirectoryWorker()
    onTestFinished(() => releaseDirectoryWorker(worker))
    await worker.list(Buffer.from(dir).toString('latin1'))
    const first = await indexed.backup(source, { sealWorkers: 1, snapshotPaths: [src] })
    expect(asked).toEqual([true])
    expect([flags.get('fills'), flags.get('stays')]).toEqual([true, true])
    // found empty when listed: stored as listed (size 0, no content), not read again after it was filled
    const fills = (await indexed.resolveSnapshotPath(`latest:${src}/fills`)).node
    expect(fills.content).toEqual([])
    expect(fills.size ?? 0).toBe(0)
    expect(first.snapshot.summary!.dataBlobs).toBe(0)
    flags.clear()
    const second = await indexed.backup(source, { sealWorkers: 1, snapshotPaths: [src] })
    expect(asked).toEqual([true, false])
    expect([flags.get('fills'), flags.get('stays')]).toEqual([undefined, undefined])
    expect(second.snapshot.summary!.filesChanged).toBe(1) // fills, read now
    expect((await indexed.resolveSnapshotPath(`latest:${src}/fills`)).node.size).toBe(21)
  })

  it.runIf(existsSync('/proc/version'))('a /proc file (listed with size 0) is stored with its content', async () => {
    const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    await indexed.backup(new LocalSource(['/proc/version']), { sealWorkers: 1 })
    const { node } = await indexed.resolveSnapshotPath('latest:/proc/version')
    const parts: Uint8Array[] = []
    for await (const c of indexed.readFile(node)) parts.push(c)
    expect(Buffer.concat(parts).toString()).toBe(await readFile('/proc/version', 'utf8'))
  })
})
