/**
 * A rustic-ts backup next to a concurrent `restic prune` that deletes exactly the blobs the backup
 * deduplicates against (their only snapshot was just forgotten): in both orders, at several offsets,
 * with and without waiting for the lock. After every run `restic check --read-data` passes, and the
 * backup either wrote a snapshot that reads back intact or failed with a lock conflict naming restic's
 * lock (and wrote no snapshot). Without locks about half of such runs lost data.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRusticError, type Repository } from '@rustic-ts/core/internal'
import { cheapRepo, finished, restic, startRestic } from './helpers.js'

let fx: Awaited<ReturnType<typeof cheapRepo>>
let src: string

beforeAll(async () => {
  fx = await cheapRepo('rustic-ts-prune-race-')
  src = join(fx.dir, 'src')
  await mkdir(src)
})

afterAll(async () => {
  await fx?.remove()
})

const FILES = 12

/** New content for every file of the source (fresh blobs each run). */
async function freshContent(): Promise<Buffer[]> {
  const files = Array.from({ length: FILES }, () => randomBytes(40_000))
  await Promise.all(files.map((d, i) => writeFile(join(src, `f${i}.bin`), d)))
  return files
}

async function readsBack(repo: Repository, snapshotId: string, files: Buffer[]): Promise<boolean> {
  const indexed = await repo.toIndexed()
  for (let i = 0; i < files.length; i++) {
    const { node } = await indexed.resolveSnapshotPath(`${snapshotId}:${src}/f${i}.bin`)
    const parts: Uint8Array[] = []
    for await (const p of indexed.readFile(node)) parts.push(p)
    if (!Buffer.concat(parts).equals(files[i]!)) return false
  }
  return true
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

type Order = 'prune-first' | 'backup-first'
const runs: Array<{ order: Order; offsetMs: number; retryLockMs: number }> = []
for (const retryLockMs of [0, 20_000]) {
  for (const offsetMs of [0, 100, 250, 500, 800]) runs.push({ order: 'prune-first', offsetMs, retryLockMs })
  for (const offsetMs of [0, 50, 150, 300, 450]) runs.push({ order: 'backup-first', offsetMs, retryLockMs })
}

describe('rustic-ts backup next to restic prune', () => {
  it(`keeps the repository intact in ${runs.length} runs (both orders, several offsets, with and without waiting)`, async () => {
    const outcomes: string[] = []
    for (const { order, offsetMs, retryLockMs } of runs) {
      const label = `${order} +${offsetMs}ms${retryLockMs ? ' waiting' : ''}`
      const repo = await fx.open({ retryLockMs })
      const files = await freshContent()
      // a snapshot of the content, then forgotten: its blobs are what prune deletes
      const before = await (await repo.toIndexed()).backup([src])
      await repo.deleteSnapshots([before.snapshot.id!])
      // the index as loaded now names those blobs; prune rewrites it
      const indexed = await repo.toIndexed()
      const snapshotsBefore = new Set(await repo.snapshotIds())

      const startPrune = async (): Promise<{ code: number; stderr: string }> => finished(startRestic(fx.repo, ['prune']))
      const startBackup = (): Promise<unknown> => indexed.backup([src]).then((r) => r, (e: unknown) => e)
      let prune: Promise<{ code: number; stderr: string }>
      let backup: Promise<unknown>
      if (order === 'prune-first') {
        prune = startPrune()
        await delay(offsetMs)
        backup = startBackup()
      } else {
        backup = startBackup()
        await delay(offsetMs)
        prune = startPrune()
      }
      const [p, b] = await Promise.all([prune, backup])

      if (p.code !== 0) expect(p.stderr, label).toContain('repository is already locked')
      const check = await restic(fx.repo, ['check', '--read-data'])
      expect(check.code, `${label}: restic check --read-data\n${check.stdout}${check.stderr}`).toBe(0)
      const newSnapshots = (await repo.snapshotIds()).filter((id) => !snapshotsBefore.has(id))
      if (b instanceof Error) {
        expect(isRusticError(b, 'RepositoryLocked'), `${label}: ${b.message}`).toBe(true)
        expect(b.message, label).toMatch(/locked by an exclusive lock of PID \d+ on host/)
        expect(newSnapshots, label).toEqual([])
        outcomes.push(`${label}: backup refused`)
      } else {
        const id = (b as { snapshot: { id: string } }).snapshot.id
        expect(newSnapshots, label).toEqual([id])
        expect(await readsBack(await fx.open(), id, files), `${label}: snapshot ${id} reads back`).toBe(true)
        await repo.deleteSnapshots([id as never])
        outcomes.push(`${label}: backup saved, prune ${p.code === 0 ? 'ran' : 'refused'}`)
      }
      await repo.close()
    }
    // both clients got their turn at least once
    expect(outcomes.some((o) => o.includes('backup saved'))).toBe(true)
    expect(outcomes.some((o) => o.includes('refused'))).toBe(true)
    expect(outcomes.some((o) => o.includes('prune ran'))).toBe(true)
    expect(await readFile(join(src, 'f0.bin'))).toHaveLength(40_000)
    // 20 runs of a backup, restic prune and restic check --read-data: ~40 s on a quiet 2-core machine
  }, 360_000)
})
