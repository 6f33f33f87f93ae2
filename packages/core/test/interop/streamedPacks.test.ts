import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Indexer, Packer, PackSizer, readPackHeader, Repository, SealPool } from '@rustic-ts/core/internal'
import { indexedPacks, newRepo, packAll, password, randomBlobs, tempDir } from '../blob/helpers.js'

const run = promisify(execFile)
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

describe.each([
  [1, false],
  [2, false],
  [1, true],
  [2, true],
] as const)('packs written with LocalBackend, repository v%i, seal pool %s', (version, usePool) => {
  it('pass restic check --read-data and read back after re-opening', async () => {
    const { dir, cleanup } = await tempDir()
    cleanups.push(cleanup)
    const { repo } = await newRepo(version, new LocalBackend(dir))
    const pool = usePool ? await SealPool.start(repo.dbe, { workers: 2 }) : undefined
    if (usePool) expect(pool?.size).toBe(2)
    const blobs = randomBlobs(usePool ? 1500 : 2500, 512 * 1024)
    const { indexFiles } = await packAll(repo, blobs, {
      packer: { sizer: PackSizer.forType(repo.config, 'data', 0, { defaultSize: 1024 * 1024 }), sealPool: pool },
      indexer: { maxBlobsPerFile: 1000 },
    })
    await pool?.close()
    expect(indexFiles.length).toBeGreaterThanOrEqual(2)

    const { stdout, stderr } = await run('restic', ['-r', dir, '--no-cache', 'check', '--read-data'], {
      env: { ...process.env, RESTIC_PASSWORD: password },
      maxBuffer: 16 << 20,
    })
    expect(stdout + stderr).toMatch(/no errors were found/)
    expect(stdout + stderr).not.toMatch(/unreferenced|hint:|fatal|error:|errors? occurred/i)
    expect(await leftovers(dir)).toEqual([]) // data packs were written as they filled: no temp file is left

    const reopened = await Repository.open({}, { repository: new LocalBackend(dir) }, { password })
    const indexed = await reopened.toIndexed()
    for (const b of blobs) expect(Buffer.compare(await indexed.getBlob(b.type, b.id), b.data)).toBe(0)
    const sizes = new Map(await reopened.backend.listWithSize('pack'))
    for (const p of await indexedPacks(reopened)) {
      for (const b of p.blobs) expect(b.uncompressedLength === undefined).toBe(version === 1)
      const header = await readPackHeader(reopened.dbe, p.id, sizes.get(p.id)!)
      expect(header.map((b) => [b.id, b.type, b.offset, b.length, b.uncompressedLength])).toEqual(
        p.blobs.map((b) => [b.id, b.type, b.offset, b.length, b.uncompressedLength]),
      )
    }
  })
})

/** Files under data/ that are not packs (temp files of unfinished writes). */
async function leftovers(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, 'data'), { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile() && !/^[0-9a-f]{64}$/.test(e.name)).map((e) => e.name)
}

describe('data packs written as they fill (LocalBackend)', () => {
  it('an aborted packer leaves no temp file and no pack without its blobs indexed', async () => {
    const { dir, cleanup } = await tempDir()
    cleanups.push(cleanup)
    const { repo } = await newRepo(2, new LocalBackend(dir))
    const indexed = await repo.toIndexed()
    const abort = new AbortController()
    const indexer = new Indexer(repo.dbe)
    let saved = 0
    const packer = new Packer(repo.dbe, 'data', indexer, indexed.index, {
      signal: abort.signal,
      sizer: PackSizer.fixed(256 * 1024),
      onPackSaved: () => void (++saved === 2 && abort.abort()),
    })
    // add blobs until two packs are stored and the abort came, then a few more
    for (let i = 0, after = 0; after < 20 && i < 20_000; i++) {
      const [b] = randomBlobs(1, 64 * 1024)
      await packer.add(b!.id, b!.data).catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, 1))
      if (abort.signal.aborted) after++
    }
    expect(abort.signal.aborted).toBe(true)
    await expect(packer.finalize()).rejects.toThrow()
    await indexer.finalize()
    expect(await leftovers(dir)).toEqual([])
    const packs = await repo.backend.list('pack')
    expect(packs.length).toBeGreaterThan(0)
    const { stdout, stderr } = await run('restic', ['-r', dir, '--no-cache', 'check', '--read-data'], {
      env: { ...process.env, RESTIC_PASSWORD: password },
      maxBuffer: 16 << 20,
    })
    expect(stdout + stderr).toMatch(/no errors were found/)
  })
})
