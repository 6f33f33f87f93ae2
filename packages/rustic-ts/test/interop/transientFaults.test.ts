/**
 * Issue 6 acceptance: a fault-injecting backend (transient errors on ~10% of calls, some of them after
 * the call went through, plus latency) wrapped in the retry decorator: backup and restore still succeed
 * and `restic check --read-data` accepts the repository. Without retries, the first error surfaces as a
 * typed, transient `BackendError`.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BackendError,
  LocalBackend,
  Repository,
  RetryBackend,
  type IndexedRepository,
  type WriteBackend,
} from 'rustic-ts'
import { FaultInjectingBackend } from '@rustic-ts/backend-testkit'
import { mkdata } from '../helpers/mkdata.js'
import { PASSWORD, restic, tempDir } from '../helpers/restic.js'
import { restoredTreeFacts as facts, type EntryFacts } from '../helpers/treeCompare.js'

const KDF = { N: 1024, r: 8, p: 1 }

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let want: Map<string, EntryFacts>

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-faults-')
  src = join(tmp.path, 'src')
  await mkdata(src, ['--scale', '0.02'])
  // the 64 MiB random file and its copy add nothing here but time: keep the many small files
  await rm(join(src, 'big', 'random0.img'))
  await rm(join(src, 'media', 'copy-of-random0.img'))
  want = await facts(src)
}, 120_000)
afterAll(async () => tmp?.remove())

async function restoreAll(indexed: IndexedRepository, snapId: string, target: string): Promise<void> {
  const { node } = await indexed.resolveSnapshotPath(`${snapId}:${src}`)
  const plan = await indexed.planRestore(node, target)
  await indexed.restore(plan)
}

async function expectSameTree(target: string): Promise<void> {
  const got = await facts(target)
  expect([...got.keys()]).toEqual([...want.keys()])
  for (const [path, f] of want) expect(got.get(path), path).toEqual(f)
}

describe('transient faults', () => {
  it('with the retry decorator, backup and restore succeed and restic check --read-data passes', async () => {
    const dir = join(tmp.path, 'repo-retry')
    const faulty = new FaultInjectingBackend(new LocalBackend(dir), {
      faultRate: 0.1,
      seed: 6,
      afterFraction: 0.3, // some faults are lost replies: the call went through, the caller sees an error
      latencyMs: [0, 4],
    })
    const retries: string[] = []
    const backend: WriteBackend = new RetryBackend(faulty, {
      maxRetries: 8,
      baseDelayMs: 1,
      maxDelayMs: 20,
      onRetry: (err, n, _delay, call) => retries.push(`${call} #${n}: ${err.message}`),
    })
    const repo = await Repository.init({}, { repository: backend }, { password: PASSWORD }, { kdf: KDF })
    const indexed = await repo.toIndexed()
    // A backup makes few calls (a handful of packs, an index, a snapshot): besides the random faults,
    // force one on the first call of each phase so that both phases surely meet a fault.
    const before = faulty.totalFaults
    faulty.failNext(1)
    const { snapshot } = await indexed.backup([src])
    const backupFaults = faulty.totalFaults - before

    // restore through a freshly opened repository on the same faulty stack
    const reopened = await (await Repository.open({}, { repository: backend }, { password: PASSWORD })).toIndexed()
    const beforeRestore = faulty.totalFaults
    faulty.failNext(1)
    const target = join(tmp.path, 'restore-retry')
    await restoreAll(reopened, snapshot.id!, target)
    const restoreFaults = faulty.totalFaults - beforeRestore
    await expectSameTree(target)

    // the faults really happened, about one call in ten, and each was retried
    expect(backupFaults).toBeGreaterThan(0)
    expect(restoreFaults).toBeGreaterThan(0)
    expect(faulty.totalFaults / faulty.totalCalls).toBeGreaterThan(0.04)
    // ~10% random faults plus the two forced ones, over a few dozen calls
    expect(faulty.totalFaults / faulty.totalCalls).toBeLessThan(0.3)
    expect(retries.length).toBe(faulty.totalFaults)
    expect(retries.every((r) => r.includes('injected fault'))).toBe(true)

    await restic(dir, ['check', '--read-data'])
    const snaps = JSON.parse((await restic(dir, ['snapshots', '--json'])).toString()) as Array<{ id: string }>
    expect(snaps.map((s) => s.id)).toEqual([snapshot.id])
  })

  it('without retries, the first error surfaces as a typed transient BackendError (backup and restore)', async () => {
    const dir = join(tmp.path, 'repo-plain')
    const faulty = new FaultInjectingBackend(new LocalBackend(dir), { faultRate: 0 })
    const repo = await Repository.init({}, { repository: faulty }, { password: PASSWORD }, { kdf: KDF })
    const indexed = await repo.toIndexed()

    // backup: one fault on the first pack write
    const callsBefore = faulty.calls.writeBytes
    faulty.failNext(1)
    const err = await indexed.backup([src]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(BackendError)
    const be = err as BackendError
    expect(be.kind).toBe('Backend')
    expect(be.backendKind).toBe('Transient')
    expect(be.isTransient).toBe(true)
    expect(be.message).toMatch(/^injected fault in \w+/)
    expect(faulty.totalFaults).toBe(1)
    expect(faulty.calls.writeBytes).toBeGreaterThanOrEqual(callsBefore)
    expect(await repo.snapshotIds()).toEqual([]) // no snapshot was written

    // a clean backup, then a restore whose first pack read fails (only reads fail here: restore first
    // takes its lock, which lists and writes lock files)
    const { snapshot } = await indexed.backup([src])
    const readFaults = new FaultInjectingBackend(new LocalBackend(dir), { faultRate: 0, methods: ['readPartial'] })
    const fresh = await (await Repository.open({}, { repository: readFaults }, { password: PASSWORD })).toIndexed()
    const { node } = await fresh.resolveSnapshotPath(`${snapshot.id!}:${src}`)
    const plan = await fresh.planRestore(node, join(tmp.path, 'restore-plain'))
    readFaults.failNext(1)
    const rerr = await fresh.restore(plan).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(rerr).toBeInstanceOf(BackendError)
    expect((rerr as BackendError).isTransient).toBe(true)
    expect((rerr as BackendError).message).toMatch(/^injected fault in readPartial pack [0-9a-f]{64}$/)
    expect(readFaults.totalFaults).toBe(1)

    // the same restore through the retry decorator finishes the job
    faulty.failNext(1)
    const retrying = await (await Repository.open({}, { repository: new RetryBackend(faulty, { baseDelayMs: 1 }) }, { password: PASSWORD })).toIndexed()
    await restoreAll(retrying, snapshot.id!, join(tmp.path, 'restore-plain'))
    await expectSameTree(join(tmp.path, 'restore-plain'))
    await restic(dir, ['check'])
  })
})
