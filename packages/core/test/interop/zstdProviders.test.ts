import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository, setZstdProvider, zstdProvider, zstdProviders } from '@rustic-ts/core'
import { newRepo, packAll, password, randomBlobs, tempDir } from '../blob/helpers.js'

const run = promisify(execFile)
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

describe('repositories compressed by each zstd provider', () => {
  const initial = zstdProvider()
  afterEach(() => setZstdProvider(initial))

  for (const p of zstdProviders().filter((q) => q.compresses !== false)) {
    it(`${p.name}: blobs and index files pass restic check --read-data`, async () => {
      setZstdProvider(p)
      const { dir, cleanup } = await tempDir()
      cleanups.push(cleanup)
      const { repo } = await newRepo(2, new LocalBackend(dir))
      const blobs = randomBlobs(120, 200 * 1024)
      await packAll(repo, blobs)
      const { stdout, stderr } = await run('restic', ['-r', dir, '--no-cache', 'check', '--read-data'], {
        env: { ...process.env, RESTIC_PASSWORD: password },
      })
      expect(stdout + stderr).toMatch(/no errors were found/)
      setZstdProvider(initial)
      const indexed = await (await Repository.open({}, { repository: new LocalBackend(dir) }, { password })).toIndexed()
      for (const b of blobs.slice(0, 20)) expect(Buffer.compare(await indexed.getBlob(b.type, b.id), b.data)).toBe(0)
    })
  }
})
