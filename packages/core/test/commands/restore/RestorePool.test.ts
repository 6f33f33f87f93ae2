import { expect, it } from 'vitest'
import { MemoryBackend, Repository } from '@rustic-ts/core/internal'
import { RestorePool } from '../../../src/commands/restore/RestorePool.js'

// A broken worker program does not fail a restore (it falls back to the calling thread), so check that
// the pool starts: its start-up self-test opens blobs sealed by `Key`, plain and compressed.
it.each([1, 2] as const)('the restore workers start and pass their self-test (v%i)', async (version) => {
  const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'x' }, { version, kdf: { N: 1024, r: 8, p: 1 } })
  const pool = await RestorePool.start(repo.dbe.key, 2)
  expect(pool?.size).toBe(2)
  await pool!.close()
})
