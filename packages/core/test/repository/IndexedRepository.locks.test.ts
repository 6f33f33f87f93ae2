import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  StreamSource,
  isRusticError,
  type CopyPlan,
  type IndexedRepository,
  type Node,
  type Repository,
  type RestorePlan,
  type SnapshotFile,
} from '@rustic-ts/core/internal'
import { lockFiles, memoryRepo, plantLock } from './lock/helpers.js'

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

async function drain(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of items) n++
  return n
}

let target: string
let repo: Repository
let indexed: IndexedRepository
let root: Node
let file: Node
let restorePlan: RestorePlan
let snapshot: SnapshotFile
let copyTarget: Repository
let copyPlan: CopyPlan

beforeAll(async () => {
  target = await mkdtemp(join(tmpdir(), 'rustic-ts-locks-'))
  ;({ repo } = await memoryRepo())
  const data = new TextEncoder().encode('content under lock\n'.repeat(100))
  ;({ snapshot } = await (await repo.toIndexed()).backup(new StreamSource(async function* () {
    yield data
  }, 'f.txt')))
  indexed = await repo.toIndexed()
  ;({ node: root } = await indexed.resolveSnapshotPath(snapshot.id!))
  ;({ node: file } = await indexed.resolveSnapshotPath(`${snapshot.id!}:/f.txt`))
  restorePlan = await indexed.planRestore(root, join(target, 'restore'))
  ;({ repo: copyTarget } = await memoryRepo())
  copyPlan = await indexed.planCopy(await copyTarget.toIndexed())
})

afterAll(async () => {
  await repo.close()
  await copyTarget.close()
  await rm(target, { recursive: true, force: true })
})

/**
 * Every reading command of the indexed repository, as restic's counterparts take a shared lock, and
 * those that only add files (copy, on both repositories; merge without `delete`).
 */
const commands: Record<string, () => Promise<unknown>> = {
  planRestore: () => indexed.planRestore(root, join(target, 'plan')),
  restore: () => indexed.restore(restorePlan),
  find: () => drain(indexed.find(['f.txt'])),
  diff: () => indexed.diff(root, root),
  dump: () => drain(indexed.dump(file, '/f.txt')),
  catBlob: () => indexed.catBlob(file.content![0]!),
  catTree: () => indexed.catTree('latest'),
  planCopy: () => indexed.planCopy(copyPlan.target),
  copy: () => indexed.copy(copyPlan),
  mergeSnapshots: () => indexed.mergeSnapshots([snapshot]),
  stats: () => indexed.stats(),
}

describe('the commands of IndexedRepository take a shared lock', () => {
  for (const [name, run] of Object.entries(commands)) {
    it(`${name}: refused while another client holds an exclusive lock; runs and leaves no lock file otherwise`, async () => {
      const planted = await plantLock(repo, { exclusive: true, hostname: 'pruner', pid: 31337 })
      try {
        const err = await errorOf(run())
        expect(isRusticError(err, 'RepositoryLocked'), String(err)).toBe(true)
        expect((err as Error).message).toContain('exclusive lock of PID 31337 on host "pruner"')
      } finally {
        await repo.backend.remove('lock', planted as never, false)
      }
      await run()
      expect(await lockFiles(repo)).toEqual([])
    })
  }

  it('a stream holds its lock while it is read and gives it back at its end', async () => {
    const it = indexed.find(['f.txt'])[Symbol.asyncIterator]()
    await it.next()
    expect((await lockFiles(repo)).map((l) => l.lock.exclusive)).toEqual([false])
    while (!(await it.next()).done);
    expect(await lockFiles(repo)).toEqual([])
  })

  it('commands inside repo.withLock share its lock: one lock file for all of them', async () => {
    const seen = await repo.withLock('shared', async () => {
      await indexed.diff(root, root)
      await drain(indexed.dump(file, '/f.txt'))
      return (await lockFiles(repo)).length
    })
    expect(seen).toBe(1)
    expect(await lockFiles(repo)).toEqual([])
  })
})
