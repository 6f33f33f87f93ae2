import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRusticError, type Repository } from '@rustic-ts/core/internal'
import { lockFiles, memoryRepo, plantLock } from './lock/helpers.js'

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

let repo: Repository

beforeAll(async () => {
  ;({ repo } = await memoryRepo())
})

afterAll(async () => {
  await repo.close()
})

/** The reading commands of Repository that restic runs under a shared lock. */
const shared: Record<string, () => Promise<unknown>> = {
  groupSnapshots: () => repo.groupSnapshots(),
  listKeys: () => repo.listKeys(),
  addKey: () => repo.addKey('another password', { kdf: { N: 1024, r: 8, p: 1 } }),
  catFile: () => repo.catFile('config'),
  listFiles: () => repo.listFiles('keys'),
  repoInfo: () => repo.repoInfo(),
}

/** The commands of Repository that remove or rewrite files; restic takes the exclusive lock for them. */
const exclusive: Record<string, () => Promise<unknown>> = {
  check: () => repo.check(),
  removeKey: () => repo.removeKey('0'.repeat(64)),
  changePassword: () => repo.changePassword('a new password', { kdf: { N: 1024, r: 8, p: 1 } }),
  applyConfig: () => repo.applyConfig({ setCompression: 7 }),
}

describe('the commands of Repository take the lock restic takes', () => {
  for (const [name, run] of Object.entries(shared)) {
    it(`${name}: shared, refused while another client holds an exclusive lock; leaves no lock file`, async () => {
      const planted = await plantLock(repo, { exclusive: true, hostname: 'pruner', pid: 31337 })
      try {
        expect(isRusticError(await errorOf(run()), 'RepositoryLocked')).toBe(true)
      } finally {
        await repo.backend.remove('lock', planted as never, false)
      }
      const other = await plantLock(repo, { exclusive: false })
      try {
        await run() // shared locks coexist
      } finally {
        await repo.backend.remove('lock', other as never, false)
      }
      expect(await lockFiles(repo)).toEqual([])
    })
  }

  it('snapshot reads and unlock take no lock', async () => {
    const planted = await plantLock(repo, { exclusive: true, hostname: 'pruner', pid: 31337 })
    try {
      await repo.getSnapshots()
      await repo.findSnapshots([])
      await repo.unlock()
      expect((await lockFiles(repo)).map((l) => l.id)).toEqual([planted])
    } finally {
      await repo.backend.remove('lock', planted as never, false)
    }
  })

  for (const [name, run] of Object.entries(exclusive)) {
    it(`${name}: exclusive, refused next to another client’s shared lock, changing nothing`, async () => {
      const keys = await repo.backend.list('key')
      const config = repo.config
      const planted = await plantLock(repo, { exclusive: false })
      try {
        expect(isRusticError(await errorOf(run()), 'RepositoryLocked')).toBe(true)
      } finally {
        await repo.backend.remove('lock', planted as never, false)
      }
      expect((await repo.backend.list('key')).sort()).toEqual(keys.sort())
      expect(repo.config).toBe(config)
      expect(await lockFiles(repo)).toEqual([])
    })
  }
})
