import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cheapKey } from '../helpers/cheapKey.js'
import { restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string

/** Every blob entry of every index file, as restic prints them. */
async function indexBlobs(): Promise<Array<{ id: string; length: number; uncompressed_length?: number }>> {
  const ids = (await restic(repo, ['list', 'index'])).toString().trim().split('\n')
  const out = []
  for (const id of ids) {
    const index = JSON.parse((await restic(repo, ['cat', 'index', id])).toString()) as { packs: Array<{ blobs: Array<{ id: string; length: number; uncompressed_length?: number }> }> }
    for (const p of index.packs) out.push(...p.blobs)
  }
  return out
}

beforeAll(async () => {
  tmp = await tempDir()
  repo = join(tmp.path, 'repo')
  await restic(repo, ['init', '--repository-version', '1'])
  await cheapKey(repo)
  await writeFile(join(tmp.path, 'old.txt'), 'old data '.repeat(20_000))
  await restic(repo, ['backup', join(tmp.path, 'old.txt')])
}, 60_000)
afterAll(async () => tmp?.remove())

describe('config --set-version 2 on a restic v1 repository', () => {
  it('refuses invalid values, writing nothing', async () => {
    for (const [args, message] of [
      [['--set-version', '3'], /repository version 3 is not supported/],
      [['--set-compression', '99'], /invalid --set-compression "99"/],
      [['--set-compression', '5'], /needs a version 2 repository/],
      [['--set-append-only', 'maybe'], /invalid --set-append-only "maybe": expected true or false/],
      [['--set-datapack-size', 'big'], /invalid --set-datapack-size "big"/],
    ] as const) {
      const r = await rustic(['-r', repo, '--no-cache', 'config', ...args])
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toMatch(message)
    }
    expect(JSON.parse((await restic(repo, ['cat', 'config'])).toString())).toMatchObject({ version: 1 })
  })

  it('upgrades: restic sees version 2, check --read-data passes, old data reads, new data is compressed', async () => {
    const out = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'config', '--set-version', '2'])).toString())
    expect(out).toMatchObject({ changed: true, config: { version: 2 } })
    expect(JSON.parse((await restic(repo, ['cat', 'config'])).toString())).toMatchObject({ version: 2 })
    expect((await restic(repo, ['migrate'])).toString()).not.toContain('upgrade_repo_v2')
    expect((await indexBlobs()).filter((b) => b.uncompressed_length !== undefined)).toEqual([])

    await writeFile(join(tmp.path, 'new.txt'), 'new data '.repeat(20_000))
    await rusticOk(['-r', repo, '--no-cache', 'backup', join(tmp.path, 'new.txt')])
    await writeFile(join(tmp.path, 'restic.txt'), 'restic data '.repeat(20_000))
    await restic(repo, ['backup', join(tmp.path, 'restic.txt')])
    await restic(repo, ['check', '--read-data'])
    const compressed = (await indexBlobs()).filter((b) => b.uncompressed_length !== undefined)
    // the two new files' data blobs and the new trees, all compressed
    expect(compressed.filter((b) => b.uncompressed_length! >= 180_000 && b.length < 2000)).toHaveLength(2)
    const dump = await restic(repo, ['dump', 'latest', join(tmp.path, 'restic.txt')])
    expect(dump.toString()).toBe('restic data '.repeat(20_000))
  })
})
