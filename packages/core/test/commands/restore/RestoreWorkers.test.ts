import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository, RestoreWorkers, type IndexedRepository } from '@rustic-ts/core'
import { RestorePool } from '../../../src/commands/restore/RestorePool.js'

const password = 'restore-workers-pw'
let root: string
let indexed: IndexedRepository
const files = new Map<string, Buffer>()

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rustic-restore-workers-'))
  const src = join(root, 'src')
  await mkdir(src, { recursive: true })
  // over 16 MiB of pack data: a restore with `workers: 2` wants one worker thread (and the main thread)
  for (let i = 0; i < 18; i++) files.set(`f${i}`, randomBytes(1_000_000 + i * 3_000))
  for (const [name, data] of files) await writeFile(join(src, name), data)
  const repo = await Repository.init({}, { repository: new LocalBackend(join(root, 'repo')) }, { password }, { kdf: { N: 1024, r: 8, p: 1 } })
  indexed = await repo.toIndexed()
  await indexed.backup('.', { local: { cwd: src } })
}, 60_000)
afterAll(async () => {
  await indexed.repo.close()
  await rm(root, { recursive: true, force: true })
})
afterEach(() => vi.restoreAllMocks())

/** The pools `start` made (awaited), and whether each was closed (`close` may be called more than once on one). */
async function pools(start: { mock: { results: Array<{ value: unknown }> } }, close: { mock: { contexts: unknown[] } }): Promise<boolean[]> {
  const made = await Promise.all(start.mock.results.map((r) => r.value as Promise<RestorePool | undefined>))
  return made.map((p) => p !== undefined && close.mock.contexts.includes(p))
}

async function expectRestored(target: string): Promise<void> {
  for (const [name, data] of files) expect((await readFile(join(target, name))).equals(data), name).toBe(true)
}

it('a restore takes the workers started ahead of its plan when it wants as many, and ends them', async () => {
  const start = vi.spyOn(RestorePool, 'start')
  const close = vi.spyOn(RestorePool.prototype, 'close')
  const workers = RestoreWorkers.start(indexed.repo, { workers: 2 })
  expect(workers.size).toBe(1)
  const { node } = await indexed.resolveSnapshotPath('latest')
  const target = join(root, 'out-taken')
  const plan = await indexed.planRestore(node, target, { workers: 2 })
  const stats = await indexed.restore(plan, {}, workers)
  expect(stats.filesWritten).toBe(files.size)
  await expectRestored(target)
  expect(start).toHaveBeenCalledTimes(1) // (the restore started none of its own)
  expect(await pools(start, close)).toEqual([true])
  const calls = close.mock.calls.length
  await workers.close() // (the restore's to close: nothing more happens)
  expect(close.mock.calls.length).toBe(calls)
}, 60_000)

it('a restore that wants another number of workers ends those started ahead and starts its own', async () => {
  const start = vi.spyOn(RestorePool, 'start')
  const close = vi.spyOn(RestorePool.prototype, 'close')
  const workers = RestoreWorkers.start(indexed.repo, { workers: 3 })
  expect(workers.size).toBe(2)
  const { node } = await indexed.resolveSnapshotPath('latest')
  const target = join(root, 'out-other')
  const plan = await indexed.planRestore(node, target, { workers: 2 })
  await indexed.restore(plan, {}, workers)
  await expectRestored(target)
  expect(start.mock.calls.map((c) => c[1])).toEqual([2, 1])
  expect(await pools(start, close)).toEqual([true, true])
}, 60_000)

it('workers started ahead end when the restore has nothing to read, or when no restore comes', async () => {
  const { node } = await indexed.resolveSnapshotPath('latest')
  const target = join(root, 'out-again')
  await indexed.restore(await indexed.planRestore(node, target, { workers: 2 }))
  const again = await indexed.planRestore(node, target, { workers: 2 })
  expect(again.reads.length).toBe(0)
  const start = vi.spyOn(RestorePool, 'start')
  const close = vi.spyOn(RestorePool.prototype, 'close')
  await indexed.restore(again, {}, RestoreWorkers.start(indexed.repo, { workers: 2 }))
  await expectRestored(target)
  expect(await pools(start, close)).toEqual([true])
  // a dry run: the caller ends them (more than once is fine)
  const unused = RestoreWorkers.start(indexed.repo, { workers: 2 })
  await unused.close()
  await unused.close()
  expect(await pools(start, close)).toEqual([true, true])
  // none with `workers: 0`
  const none = RestoreWorkers.start(indexed.repo, { workers: 0 })
  expect(none.size).toBe(0)
  await none.close()
}, 60_000)
