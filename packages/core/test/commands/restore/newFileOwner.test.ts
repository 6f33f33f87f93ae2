import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository, type IndexedRepository } from '@rustic-ts/core'

// As root, a new file restore creates is not given its owner again (no fchown) when it gets the snapshot's
// by itself: the process's user and group, in directories the restore made in a target that is not setgid.
// In a setgid target new files would get the target's group: there each file is given its owner as before.
const asRoot = process.getuid?.() === 0
let root: string
let indexed: IndexedRepository
const names = ['a', 'b', 'd/c', 'd/e/f', 'empty']

beforeAll(async () => {
  if (!asRoot) return
  root = await mkdtemp(join(tmpdir(), 'rustic-new-file-owner-'))
  const src = join(root, 'src')
  await mkdir(join(src, 'd', 'e'), { recursive: true })
  for (const n of names) await writeFile(join(src, n), n === 'empty' ? '' : randomBytes(5_000))
  await chown(join(src, 'b'), 0, 4321) // (a group that is not the process's: given by fchown)
  const repo = await Repository.init({}, { repository: new LocalBackend(join(root, 'repo')) }, { password: 'x' }, { kdf: { N: 1024, r: 8, p: 1 } })
  indexed = await repo.toIndexed()
  await indexed.backup('.', { local: { cwd: src } })
}, 60_000)
afterAll(async () => {
  if (!asRoot) return
  await indexed.repo.close()
  await rm(root, { recursive: true, force: true })
})

async function owners(target: string): Promise<Array<[string, number, number]>> {
  return Promise.all(names.map(async (n) => {
    const st = await stat(join(target, n))
    return [n, st.uid, st.gid] as [string, number, number]
  }))
}

const expected: Array<[string, number, number]> = names.map((n) => [n, 0, n === 'b' ? 4321 : 0])

it.runIf(asRoot)('new files have the snapshot\'s owner, into a new target and into a setgid one', async () => {
  const { node } = await indexed.resolveSnapshotPath('latest')
  for (const workers of [2, 0]) {
    const fresh = join(root, `out-${workers}`)
    await indexed.restore(await indexed.planRestore(node, fresh, { workers }))
    expect(await owners(fresh)).toEqual(expected)
    const setgid = join(root, `setgid-${workers}`)
    await mkdir(setgid)
    await chown(setgid, 0, 4322)
    await chmod(setgid, 0o2755)
    await indexed.restore(await indexed.planRestore(node, setgid, { workers }))
    expect(await owners(setgid)).toEqual(expected)
  }
}, 60_000)
