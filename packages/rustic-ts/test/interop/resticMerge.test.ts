import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cheapKey } from '../helpers/cheapKey.js'
import { restic, rusticOk, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let home: string

beforeAll(async () => {
  tmp = await tempDir()
  repo = join(tmp.path, 'repo')
  home = join(tmp.path, 'home')
  await mkdir(join(home, 'docs'), { recursive: true })
  await mkdir(join(home, 'music'), { recursive: true })
  await restic(repo, ['init'])
  await cheapKey(repo)
  await writeFile(join(home, 'docs', 'shared.txt'), 'newer version\n')
  await utimes(join(home, 'docs', 'shared.txt'), 2_000_000_000, 2_000_000_000)
  await writeFile(join(home, 'docs', 'only-in-docs.txt'), 'docs\n')
  await restic(repo, ['backup', '--tag', 'docs', join(home, 'docs')])
  await writeFile(join(home, 'docs', 'shared.txt'), 'older version\n')
  await utimes(join(home, 'docs', 'shared.txt'), 1_000_000_000, 1_000_000_000)
  await writeFile(join(home, 'music', 'song.txt'), 'la la\n')
  await restic(repo, ['backup', '--tag', 'home', home])
}, 60_000)
afterAll(async () => tmp?.remove())

describe('merge, checked and restored by restic', () => {
  it('merges a restic snapshot of a directory into one of its parent: paths merged, the newer file wins', async () => {
    const out = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'merge', '--set-tag', 'merged', '--delete'])).toString()) as {
      snapshot: { id: string; paths: string[]; tags: string[] }
      deleted: string[]
    }
    expect(out.snapshot.paths).toEqual([home])
    expect(out.snapshot.tags).toEqual(['merged'])
    expect(out.deleted).toHaveLength(2)
    await restic(repo, ['check', '--read-data'])
    const snaps = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Array<{ id: string }>
    expect(snaps.map((s) => s.id)).toEqual([out.snapshot.id])
    const target = join(tmp.path, 'restored')
    await restic(repo, ['restore', 'latest', '--target', target])
    const restored = join(target, home)
    expect(await readFile(join(restored, 'docs', 'shared.txt'), 'utf8')).toBe('newer version\n')
    expect(await readFile(join(restored, 'docs', 'only-in-docs.txt'), 'utf8')).toBe('docs\n')
    expect(await readFile(join(restored, 'music', 'song.txt'), 'utf8')).toBe('la la\n')
  })
})
