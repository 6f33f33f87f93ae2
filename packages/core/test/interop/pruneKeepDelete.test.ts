/**
 * Two-phase prune judged by restic 0.14: packs marked for deletion (listed under `packs_to_delete`, which
 * restic does not read) leave a repository that `restic check --read-data` accepts; a prune before the
 * `keepDelete` delay (injected clock) keeps them, one after it removes them; restic restores what is kept.
 * rustic-ts's own `check --read-data` agrees with restic's each time.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Repository } from '@rustic-ts/core/internal'
import { cheapRepo, restic } from './helpers.js'

let fx: Awaited<ReturnType<typeof cheapRepo>>

beforeAll(async () => {
  fx = await cheapRepo('rustic-ts-prune-keep-delete-')
})

afterAll(async () => {
  await fx?.remove()
})

async function resticOk(args: string[]): Promise<string> {
  const r = await restic(fx.repo, args)
  expect(r.code, `restic ${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r.stdout
}

/** The errors rustic-ts's `check --read-data` finds. */
async function checkErrors(repo: Repository): Promise<string[]> {
  return (await repo.check({ readData: true })).findings.filter((f) => f.level === 'error').map((f) => f.message)
}

describe('two-phase prune and restic', () => {
  it('marked packs pass restic check --read-data and rustic-ts check --read-data; they are removed only after keepDelete; restic restores the rest', async () => {
    const src = join(fx.dir, 'src')
    await mkdir(src)
    const repo = await fx.open()
    const gone = randomBytes(600_000)
    await writeFile(join(src, 'file.bin'), gone)
    const first = (await (await repo.toIndexed()).backup(src)).snapshot.id!
    const kept = randomBytes(600_000)
    await writeFile(join(src, 'file.bin'), kept)
    const second = (await (await repo.toIndexed()).backup(src)).snapshot.id!
    await repo.deleteSnapshots([first])

    const plan = await repo.planPrune()
    const marked = plan.packs.filter((p) => p.action === 'markDelete').map((p) => p.id)
    expect(marked.length).toBeGreaterThanOrEqual(2) // the forgotten snapshot's data and tree packs
    await repo.prune(plan)
    await resticOk(['check', '--read-data'])
    expect(await checkErrors(repo)).toEqual([])
    const t0 = Date.parse(plan.time)

    const early = await repo.planPrune({ now: new Date(t0 + 22 * 3_600_000) })
    expect(early.packs.filter((p) => marked.includes(p.id)).map((p) => p.action)).toEqual(marked.map(() => 'keepMarked'))
    expect((await repo.prune(early)).packsRemoved).toBe(0)
    expect((await repo.backend.list('pack')).filter((id) => marked.includes(id))).toHaveLength(marked.length)

    const late = await repo.planPrune({ now: new Date(t0 + 24 * 3_600_000) })
    expect((await repo.prune(late)).packsRemoved).toBe(marked.length)
    expect((await repo.backend.list('pack')).filter((id) => marked.includes(id))).toEqual([])
    await resticOk(['check', '--read-data'])
    expect(await checkErrors(repo)).toEqual([])
    const target = join(fx.dir, 'restored')
    await resticOk(['restore', second, '--target', target])
    expect(await readFile(join(target, src, 'file.bin'))).toEqual(kept)
    await repo.close()
  })
})
