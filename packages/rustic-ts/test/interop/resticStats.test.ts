import { randomBytes } from 'node:crypto'
import { link, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cheapKey } from '../helpers/cheapKey.js'
import { restic, rusticOk, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string

beforeAll(async () => {
  tmp = await tempDir()
  repo = join(tmp.path, 'repo')
  const data = join(tmp.path, 'data')
  // dir1 and dir2 hold hard links to the same files: the same subtree twice in one snapshot, and hard
  // links counted once by restore-size; b.txt repeats a.txt's content; empty files and a symlink.
  await mkdir(join(data, 'dir1'), { recursive: true })
  await mkdir(join(data, 'dir2'))
  await writeFile(join(data, 'dir1', 'a.txt'), 'same content\n')
  await writeFile(join(data, 'dir1', 'b.txt'), 'same content\n')
  await writeFile(join(data, 'dir1', 'empty'), '')
  await writeFile(join(data, 'dir1', 'big.bin'), randomBytes(1_500_000))
  for (const f of ['a.txt', 'b.txt', 'empty', 'big.bin']) await link(join(data, 'dir1', f), join(data, 'dir2', f))
  await symlink('dir1/a.txt', join(data, 'link'))
  await writeFile(join(data, 'zeros'), Buffer.alloc(700_000))
  await restic(repo, ['init'])
  await cheapKey(repo)
  await restic(repo, ['backup', '--host', 'one', data])
  await writeFile(join(data, 'dir1', 'new.txt'), 'new\n')
  await rusticOk(['-r', repo, '--no-cache', 'backup', '--host', 'two', data])
  await writeFile(join(data, 'later.txt'), 'later\n')
  await restic(repo, ['backup', '--host', 'two', data])
}, 120_000)
afterAll(async () => tmp?.remove())

describe('stats equals restic stats --json', () => {
  for (const mode of ['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data']) {
    it(`--mode ${mode}`, async () => {
      for (const selection of [[], ['latest'], ['--host', 'one']]) {
        const theirs = JSON.parse((await restic(repo, ['stats', '--json', '--mode', mode, ...selection])).toString()) as Record<string, unknown>
        const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'stats', '--mode', mode, ...selection])).toString()) as Record<string, unknown>
        expect(ours, `${mode} ${selection.join(' ')}`).toMatchObject(theirs)
        expect(Object.keys(ours).filter((k) => !(k in theirs)).sort(), 'extra keys').toEqual(mode === 'raw-data' ? ['compression_ratio', 'total_uncompressed_size'] : [])
      }
    })
  }

  it('repoinfo: its numbers agree with the files and with raw-data', async () => {
    const info = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'repoinfo'])).toString()) as {
      files: { repo: Array<{ type: string; count: number; size: number }> }
      index: { blobs: Array<{ type: string; count: number; size: number }>; packs: Array<{ count: number; size: number }> }
      unused: Array<{ count: number }>
    }
    const raw = JSON.parse((await restic(repo, ['stats', '--json', '--mode', 'raw-data'])).toString()) as { total_size: number; total_blob_count: number }
    const blobs = info.index.blobs.reduce((n, b) => n + b.count, 0)
    expect(blobs).toBe(raw.total_blob_count) // every blob is used, each stored once
    expect(info.index.blobs.reduce((n, b) => n + b.size, 0)).toBe(raw.total_size)
    const packs = info.files.repo.find((f) => f.type === 'pack')!
    expect(packs.count).toBe(info.index.packs.reduce((n, p) => n + p.count, 0))
    expect(packs.size).toBe(info.index.packs.reduce((n, p) => n + p.size, 0))
    expect(info.unused.reduce((n, b) => n + b.count, 0)).toBe(0)
    expect(info.files.repo.find((f) => f.type === 'snapshot')!.count).toBe(3)
  })
})
