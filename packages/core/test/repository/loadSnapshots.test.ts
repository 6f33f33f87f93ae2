import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashId, serializeSnapshot, StreamSource, type Repository, type SnapshotFile } from '@rustic-ts/core/internal'
import { memoryRepo } from './lock/helpers.js'

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

function source(data: Uint8Array): StreamSource {
  return new StreamSource(async function* () {
    yield data
  }, 'data.bin')
}

/** Three damaged snapshot files, as a crash or bit rot leaves them: cut-off JSON, `{}`, random bytes. */
async function plantDamaged(repo: Repository, sample: SnapshotFile): Promise<string[]> {
  const json = serializeSnapshot(sample)
  const cut = await repo.dbe.saveFile('snapshot', json.subarray(0, json.length >> 1))
  const empty = await repo.dbe.saveFile('snapshot', new TextEncoder().encode('{}'))
  const noise = randomBytes(300)
  const random = hashId(noise)
  await repo.backend.writeBytes('snapshot', random, true, noise)
  return [cut, empty, random]
}

async function setup() {
  const { repo } = await memoryRepo()
  const indexed = await repo.toIndexed()
  const data = randomBytes(50_000)
  const first = await indexed.backup(source(data), { host: 'h', time: new Date('2024-01-01T00:00:00Z'), snapshotPaths: ['/data'] })
  const second = await indexed.backup(source(data), { host: 'h', time: new Date('2024-01-02T00:00:00Z'), snapshotPaths: ['/data'] })
  const damaged = await plantDamaged(repo, second.snapshot)
  return { repo, indexed, data, first: first.snapshot, second: second.snapshot, damaged }
}

describe('unreadable snapshot files are warnings, and the command goes on (as restic)', () => {
  it('listings, latest, prefixes and groups skip them with a warning naming each file', async () => {
    const { repo, first, second, damaged } = await setup()
    const warnings: string[] = []
    const onWarning = (m: string): void => void warnings.push(m)
    expect((await repo.getSnapshots({}, { onWarning })).map((s) => s.id)).toEqual([first.id, second.id])
    expect(warnings.map((w) => /^skipping snapshot ([0-9a-f]{64}): it cannot be read \(.+\)$/.exec(w)?.[1]).sort()).toEqual([...damaged].sort())
    warnings.length = 0
    expect((await repo.findSnapshot('latest', {}, { onWarning })).id).toBe(second.id)
    expect(warnings).toHaveLength(3)
    warnings.length = 0
    expect((await repo.findSnapshots(['latest~1', second.id!.slice(0, 10)], {}, { onWarning })).map((s) => s.id)).toEqual([first.id, second.id])
    expect(warnings).toHaveLength(3)
    warnings.length = 0
    const groups = await repo.groupSnapshots({}, { onWarning })
    expect(groups.map((g) => g.snapshots.map((s) => s.id))).toEqual([[first.id, second.id]])
    expect(warnings).toHaveLength(3)
  })

  it('a damaged snapshot named by its id or prefix fails with its own error', async () => {
    const { repo, damaged } = await setup()
    for (const id of damaged) {
      const err = await errorOf(repo.findSnapshot(id))
      expect((err as Error).message).toContain(id)
      const err2 = await errorOf(repo.findSnapshots([id.slice(0, 12), 'latest']))
      expect((err2 as Error).message).toContain(id)
    }
  })

  it('forget neither counts nor removes a snapshot it cannot read', async () => {
    const { repo, first, second, damaged } = await setup()
    const warnings: string[] = []
    const plan = await repo.planForget({ keepLast: 1 }, { onWarning: (m) => void warnings.push(m) })
    expect(plan.remove).toEqual([first.id])
    expect(plan.groups.flatMap((g) => g.snapshots.map((s) => s.snapshot.id)).sort()).toEqual([first.id, second.id].sort())
    expect(warnings).toHaveLength(3)
    await repo.forget(plan)
    expect((await repo.snapshotIds()).sort()).toEqual([second.id, ...damaged].sort())
  })

  it("backup's parent lookup skips them and uses the newest readable snapshot", async () => {
    const { indexed, data, second } = await setup()
    const warnings: string[] = []
    const r = await indexed.backup(source(data), { host: 'h', snapshotPaths: ['/data'] }, { onWarning: (m) => void warnings.push(m) })
    expect(r.saved).toBe(true)
    expect(r.snapshot.parent).toBe(second.id)
    expect(warnings.filter((w) => w.startsWith('skipping snapshot '))).toHaveLength(3)
  })
})
