import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CountingBackend, describeBackendConformance } from '@rustic-ts/backend-testkit'
import { MemoryBackend, RusticError, WarmUpBackend, hashId, parseWarmUpCommand } from '@rustic-ts/core/internal'
import type { CallOptions, FileType, Id } from '@rustic-ts/core/internal'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-warmup-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const ids = ['a1', 'b2', 'c3'].map((s) => hashId(new TextEncoder().encode(s)))
const pathOf = (id: Id): string => `data/${id.slice(0, 2)}/${id}`
/** A command that appends its arguments (one line per run) to `log`. */
const logger = (log: string): string => `sh -c 'echo "$*" >> "$0"' ${log}`
const lines = async (log: string): Promise<string[]> => (await readFile(log, 'utf8')).trim().split('\n')

class ColdMemory extends MemoryBackend {
  warmed: Id[] = []
  needsWarmUp(): boolean {
    return true
  }
  async warmUp(_type: FileType, id: Id, _options?: CallOptions): Promise<void> {
    if (id === ids[1]) throw new Error('glacier says no')
    this.warmed.push(id)
  }
}

describe('WarmUpBackend', () => {
  it('runs a singular command once per pack with %id, %path and %tpe', async () => {
    const log = join(dir, 'singular.log')
    const b = new WarmUpBackend(new MemoryBackend(), { warmUpCommand: `${logger(log)} %tpe %id %path` })
    await b.warmUpPacks(ids)
    expect(await lines(log)).toEqual(ids.map((id) => `pack ${id} ${pathOf(id)}`))
  })

  it('runs a plural command once per batch with %ids / %paths', async () => {
    const log = join(dir, 'plural.log')
    const b = new WarmUpBackend(new MemoryBackend(), { warmUpCommand: `${logger(log)} ids: %ids`, warmUpBatch: 2 })
    await b.warmUpPacks(ids)
    expect(await lines(log)).toEqual([`ids: ${ids[0]} ${ids[1]}`, `ids: ${ids[2]}`])
    const log2 = join(dir, 'plural-paths.log')
    const b2 = new WarmUpBackend(new MemoryBackend(), { warmUpCommand: `${logger(log2)} "%paths"`, warmUpBatch: 10 })
    await b2.warmUpPacks(ids)
    expect(await lines(log2)).toEqual([ids.map(pathOf).join(' ')])
  })

  it('runs the wait command after the warm-up command; keeps quoted arguments whole', async () => {
    const log = join(dir, 'wait.log')
    const b = new WarmUpBackend(new MemoryBackend(), {
      warmUpCommand: `${logger(log)} "warm up" %id`,
      warmUpWaitCommand: `${logger(log)} 'wait for' %ids`,
      warmUpBatch: 3,
    })
    await b.warmUpPacks(ids)
    // the warm-up commands of a batch run at once: they may finish (and log) in any order
    const logged = await lines(log)
    expect(logged.slice(0, 3).sort()).toEqual(ids.map((id) => `warm up ${id}`).sort())
    expect(logged.slice(3)).toEqual([`wait for ${ids.join(' ')}`])
    await b.warmUpPacks([])
    expect((await lines(log)).length).toBe(4)
  })

  it('command failures are ExternalCommand errors', async () => {
    const b = new WarmUpBackend(new MemoryBackend(), { warmUpCommand: 'sh -c "exit 3" %id' })
    const err = await b.warmUpPacks(ids.slice(0, 1)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RusticError)
    expect((err as RusticError).kind).toBe('ExternalCommand')
    expect((err as RusticError).message).toMatch(/exited with code 3/)
    const many = new WarmUpBackend(new MemoryBackend(), { warmUpCommand: 'sh -c "exit 1" %id', warmUpBatch: 3 })
    await expect(many.warmUpPacks(ids)).rejects.toMatchObject({ kind: 'ExternalCommand', message: /failed for 3\/3 pack/ })
    const missing = new WarmUpBackend(new MemoryBackend(), { warmUpCommand: '/nonexistent/warm %id' })
    await expect(missing.warmUpPacks(ids)).rejects.toMatchObject({ kind: 'ExternalCommand' })
  })

  it('validates placeholders', () => {
    expect(parseWarmUpCommand('warm %ids').plural).toBe(true)
    expect(parseWarmUpCommand('warm --x=%id').plural).toBe(false)
    expect(() => parseWarmUpCommand('warm all')).toThrow(/no placeholder/)
    expect(() => parseWarmUpCommand('warm %id %paths')).toThrow(/mixes/)
    expect(() => parseWarmUpCommand('warm "%id')).toThrow(/cannot parse/)
    expect(() => new WarmUpBackend(new MemoryBackend(), { warmUpCommand: 'x' })).toThrow(RusticError)
  })

  it("uses the backend's warmUp when it needs one; failures become warnings", async () => {
    const cold = new ColdMemory()
    const warnings: string[] = []
    const b = new WarmUpBackend(cold, { onWarning: (m) => warnings.push(m) })
    expect(b.needsWarmUp()).toBe(true)
    await b.warmUpPacks(ids)
    expect(cold.warmed.sort()).toEqual([ids[0], ids[2]].sort())
    expect(warnings).toEqual([`warm-up of pack ${ids[1]} failed: glacier says no`])
    const plain = new CountingBackend(new MemoryBackend())
    await new WarmUpBackend(plain).warmUpPacks(ids)
    expect(plain.count('warmUp') + plain.count('reads')).toBe(0)
  })

  it('warmUpAccess reads one byte of each file, ignoring errors', async () => {
    const inner = new CountingBackend(new MemoryBackend())
    const data = new Uint8Array([1, 2, 3])
    await inner.writeBytes('pack', ids[0]!, false, data)
    const b = new WarmUpBackend(inner, { warmUpAccess: true })
    expect(b.needsWarmUp()).toBe(true)
    await b.warmUpPacks(ids)
    expect(inner.count('readPartial', 'pack')).toBe(3)
  })

  it('waits warmUpWaitMs, and an abort ends the wait promptly', async () => {
    const b = new WarmUpBackend(new MemoryBackend(), { warmUpWaitMs: 150 })
    let start = Date.now()
    await b.warmUpPacks(ids)
    expect(Date.now() - start).toBeGreaterThanOrEqual(140)
    const long = new WarmUpBackend(new MemoryBackend(), { warmUpWaitMs: 60_000 })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 30)
    start = Date.now()
    await expect(long.warmUpPacks(ids, ac.signal)).rejects.toMatchObject({ code: 'Aborted' })
    expect(Date.now() - start).toBeLessThan(2000)
  })
})

describeBackendConformance('WarmUpBackend over MemoryBackend', async () => ({ backend: new WarmUpBackend(new MemoryBackend()) }), {
  largeFileSize: 1 << 20,
})
