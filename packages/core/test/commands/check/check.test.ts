import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { isRusticError, parseIndex, serializeIndex, type CheckFinding, type CheckResult, type Id, type IndexBlob, type Repository } from '@rustic-ts/core/internal'
import { BlobVerifier } from '../../../src/commands/check/BlobVerifier.js'
import { flipByte, openCopy, twoBackups, type TwoBackups } from '../twoBackups.js'
import { recorder } from './progressRecorder.js'

let plain: TwoBackups
let hotCold: TwoBackups

beforeAll(async () => {
  ;[plain, hotCold] = await Promise.all([twoBackups(), twoBackups({ hot: true })])
})
afterAll(async () => {
  await plain?.cleanup()
  await hotCold?.cleanup()
})

const kinds = (r: CheckResult): string[] => [...new Set(r.findings.map((f) => f.kind))].sort()
const errors = (r: CheckResult): CheckFinding[] => r.findings.filter((f) => f.level === 'error')

async function treePacks(repo: Repository): Promise<Id[]> {
  const indexed = await repo.toIndexed()
  return [...indexed.index.packs()].filter(([, t]) => t === 'tree').map(([id]) => id)
}

describe('check', () => {
  it('finds nothing in a sound repository, and reads every pack with readData', async () => {
    const { repo } = await openCopy(plain)
    const r = await repo.check({ readData: true })
    expect(r.findings).toEqual([])
    expect(r.summary).toEqual({ errors: 0, warnings: 0, infos: 0 })
    expect(r.snapshots).toBe(2)
    expect(r.packsRead).toBe(r.packs)
    expect(r.trees).toBeGreaterThanOrEqual(5)
  })

  it('a missing data pack: one error naming it; the walk still passes (the index lists its blobs)', async () => {
    const { repo, cold } = await openCopy(plain)
    await cold.remove('pack', plain.lostPack, false)
    const r = await repo.check({ readData: true })
    expect(r.findings).toEqual([
      { level: 'error', kind: 'packMissing', message: `pack ${plain.lostPack}: does not exist`, file: { type: 'pack', id: plain.lostPack } },
    ])
  })

  it('a deleted index file: the unindexed packs are notes, the missing trees errors', async () => {
    const { repo, cold } = await openCopy(plain)
    for (const id of await cold.list('index')) await cold.remove('index', id, false)
    const r = await repo.check()
    expect(kinds(r)).toEqual(['packUnreferenced', 'treeMissing'])
    expect(r.findings.filter((f) => f.kind === 'packUnreferenced')).toHaveLength((await cold.list('pack')).length)
    expect(errors(r).map((f) => f.snapshot).sort()).toEqual([plain.snap1, plain.snap2].sort())
  })

  it('a damaged snapshot file or tree blob is an error naming it', async () => {
    const { repo, cold } = await openCopy(plain)
    await flipByte(cold, 'snapshot', plain.snap1, 30)
    const [tree] = await treePacks(repo)
    await flipByte(cold, 'pack', tree!, 40)
    const r = await repo.check({ readData: true })
    const snapshot = r.findings.find((f) => f.kind === 'snapshotDamaged')
    expect(snapshot).toMatchObject({ level: 'error', file: { type: 'snapshot', id: plain.snap1 } })
    expect(snapshot!.message).toContain(`load <snapshot/${plain.snap1}>`)
    expect(r.findings.some((f) => f.kind === 'treeDamaged' && /MAC check failed/.test(f.message))).toBe(true)
    expect(r.findings.some((f) => f.kind === 'packHashMismatch' && f.file?.id === tree)).toBe(true)
    // the walk downloaded the tree pack: read-data verified it from that download, not a second one
    expect(r.packsRead).toBe(r.packs)
  })

  it('readData does not open again the trees the walk opened, and still reads every pack once', async () => {
    const { repo } = await openCopy(plain)
    const problem = vi.spyOn(BlobVerifier.prototype, 'problem')
    try {
      // (on this thread alone: so every blob readData opens goes through the spy)
      const r = await repo.check({ readData: true, workers: 0 })
      expect(r.findings).toEqual([])
      expect(r.packsRead).toBe(r.packs)
      const opened = problem.mock.calls.map(([, b]) => (b as IndexBlob).type)
      expect(opened.filter((t) => t === 'tree')).toEqual([])
      expect(opened.filter((t) => t === 'data').length).toBeGreaterThan(0)
    } finally {
      problem.mockRestore()
    }
  })

  it('blobs no snapshot uses are notes once every snapshot was walked, not with a selection', async () => {
    const { repo, cold } = await openCopy(plain)
    await cold.remove('snapshot', plain.snap2, false)
    const all = await repo.check()
    expect(kinds(all)).toEqual(['unusedBlob'])
    expect(all.findings.filter((f) => f.blob?.type === 'data').length).toBeGreaterThanOrEqual(2)
    expect((await repo.check({ snapshots: [plain.snap1.slice(0, 8)] })).findings).toEqual([])
    // a time filter is a selection too: the blobs of the snapshots it leaves out are not called unused
    expect((await repo.check({ filter: { after: new Date(Date.now() + 86_400_000) } })).findings).toEqual([])
  })

  it('a data blob the index lacks is an error for each file using it, in every tree', async () => {
    const { repo, cold } = await openCopy(plain)
    const same = Buffer.from('the same content in two directories\n')
    const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-check-twice-'))
    try {
      for (const [sub, name] of [['a', 'x.txt'], ['b', 'y.txt']]) {
        await mkdir(join(dir, sub!))
        await writeFile(join(dir, sub!, name!), same)
      }
      await (await repo.toIndexed()).backup([dir])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const blob = createHash('sha256').update(same).digest('hex')
    for (const id of await cold.list('index')) {
      const file = parseIndex(await repo.dbe.readEncryptedFull('index', id), 'index')
      const packs = file.packs.filter((p) => !p.blobs.some((b) => b.id === blob))
      if (packs.length === file.packs.length) continue
      await repo.dbe.saveFile('index', serializeIndex({ ...file, packs }))
      await cold.remove('index', id, false)
    }
    const r = await repo.check()
    const missing = errors(r)
    expect(missing.map((f) => f.kind)).toEqual(['fileBlobMissing', 'fileBlobMissing'])
    expect(missing.map((f) => f.path!.slice(dir.length)).sort()).toEqual(['/a/x.txt', '/b/y.txt'])
    for (const f of missing) {
      expect(f.blob).toEqual({ type: 'data', id: blob })
      expect(f.message).toMatch(new RegExp(`^tree [0-9a-f]{64}: file "(x|y)\\.txt" blob ${blob} not found in index$`))
    }
    // the blobs the index still lists are all used: no unusedBlob note, the pack it lost is a note
    expect(kinds(r)).toEqual(['fileBlobMissing', 'packUnreferenced'])
  })

  it('readDataSubset n/m reads the packs of group n, and all groups read every pack once', async () => {
    const { repo } = await openCopy(plain)
    let total = 0
    for (let n = 1; n <= 3; n++) total += (await repo.check({ readDataSubset: `${n}/3` })).packsRead
    expect(total).toBe((await repo.check()).packs)
  })

  it('ends the idle threads it is given and has no use for (no readData, no workers, bad options)', async () => {
    const { repo } = await openCopy(plain)
    // (a program that waits for messages)
    const idle = (): Worker => new Worker(new URL('../../workers/fixtures/echo.worker.mjs', import.meta.url))
    const ended = (t: Worker): Promise<unknown> => new Promise((resolve) => (t.threadId === -1 ? resolve(undefined) : t.once('exit', resolve)))
    const threads = [idle(), idle(), idle()]
    expect((await repo.check({ idleThreads: [threads[0]!] })).findings).toEqual([])
    expect((await repo.check({ readData: true, workers: 0, idleThreads: [threads[1]!] })).packsRead).toBeGreaterThan(0)
    await expect(repo.check({ workers: -1, idleThreads: [threads[2]!] })).rejects.toThrow(/check options/)
    await Promise.all(threads.map(ended))
    await repo.close()
  })

  it('refuses bad options with InvalidOptions, and stops with Aborted', async () => {
    const { repo } = await openCopy(plain)
    await expect(repo.check({ readDataSubset: '0/3' })).rejects.toMatchObject({ code: 'InvalidOptions' })
    await expect(repo.check({ readData: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'InvalidOptions', message: expect.stringContaining('readData') })
    const ac = new AbortController()
    ac.abort()
    await expect(repo.check({ readData: true }, { signal: ac.signal })).rejects.toSatisfy((e) => isRusticError(e, 'Aborted'))
  })

  it('a key file that does not match its name is an error', async () => {
    const { repo, cold } = await openCopy(plain)
    await cold.writeBytes('key', 'ab'.repeat(32) as Id, false, new TextEncoder().encode('{}'))
    const r = await repo.check()
    expect(r.findings.map((f) => f.kind)).toEqual(['keyDamaged'])
  })
})

describe('check with a hot repository', () => {
  it('finds nothing when hot and cold agree', async () => {
    const { repo } = await openCopy(hotCold)
    expect((await repo.check({ readData: true })).findings).toEqual([])
  })

  it('reports missing and extra hot files, a damaged cold copy, a data pack in hot and a damaged hot tree pack', async () => {
    const { repo, cold, hot } = await openCopy(hotCold)
    await hot!.remove('snapshot', hotCold.snap1, false)
    await flipByte(cold, 'snapshot', hotCold.snap2, 30)
    await hot!.writeBytes('pack', hotCold.lostPack, false, await cold.readFull('pack', hotCold.lostPack))
    const [tree] = await treePacks(repo)
    await flipByte(hot!, 'pack', tree!, 40)
    const r = await repo.check({ readData: true })
    const byKind = (k: string): CheckFinding[] => r.findings.filter((f) => f.kind === k)
    expect(byKind('hotFileMissing').map((f) => f.file)).toEqual([{ type: 'snapshot', id: hotCold.snap1 }])
    // snapshots are read from the hot repository, as every command reads them: the missing one cannot be loaded
    expect(byKind('snapshotDamaged').map((f) => f.message).sort()).toEqual([
      expect.stringMatching(new RegExp(`^cold repository: snapshot ${hotCold.snap2} is damaged`)),
      expect.stringMatching(new RegExp(`^load <snapshot/${hotCold.snap1}>: .*not found`)),
    ])
    expect(byKind('hotPackUnexpected').map((f) => f.file?.id)).toEqual([hotCold.lostPack])
    expect(byKind('packHashMismatch').map((f) => f.message)).toEqual([expect.stringMatching(/^hot repository: Pack ID does not match/)])
    // the cold copy of that tree pack is sound
    expect(r.findings.filter((f) => f.file?.id === tree && !f.message.startsWith('hot repository')).length).toBe(0)
  })
})

describe('check --read-data while the trees are walked', () => {
  it('packs read while the trees are walked show on the pack data indicator, which comes after the walk', async () => {
    const { repo } = await openCopy(plain)
    const r = recorder()
    const result = await repo.check({ readData: true }, { progress: r.factory })
    const open = new Set<string>()
    for (const e of r.events) {
      const [what, ...title] = e.split(' ')
      if (what === 'start') {
        expect([...open]).toEqual([]) // one indicator at a time
        open.add(title.join(' '))
      } else open.delete(title.join(' '))
    }
    expect(r.events.indexOf('start reading pack data')).toBeGreaterThan(r.events.indexOf('finish checking snapshots, trees and blobs'))
    // everything but the tree packs the walk downloaded (verified from that download) is counted
    const [inc, length] = r.done.get('reading pack data')!
    expect(inc).toBe(length)
    expect(length).toBeGreaterThan(0)
    expect(length).toBeLessThanOrEqual(result.bytesRead)
  })

  it('a walk that fails (or is aborted) stops the packs being read meanwhile: nothing is read once check is over', async () => {
    for (const how of ['fail', 'abort'] as const) {
      const { repo, cold } = await openCopy(plain)
      const ac = new AbortController()
      let reads = 0
      const readPartial = cold.readPartial.bind(cold)
      cold.readPartial = async (...args) => {
        reads++
        await sleep(5)
        return readPartial(...args)
      }
      const list = cold.list.bind(cold)
      cold.list = async (type, options) => {
        if (type !== 'snapshot') return list(type, options)
        await sleep(20) // the packs are being read by now
        if (how === 'abort') ac.abort()
        else throw new Error('listing failed')
        return list(type, options)
      }
      const check = repo.check({ readData: true, readDataMemory: 1 }, { signal: ac.signal })
      await expect(check).rejects.toThrow(how === 'abort' ? /abort/i : 'listing failed')
      expect(reads).toBeGreaterThan(0)
      const after = reads
      await sleep(50)
      expect(reads).toBe(after)
    }
  })
})
