import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { hashId, Repository } from '@rustic-ts/core'
import { PASSWORD, rustic, tempDir } from '../helpers/restic.js'
import { CHEAP_KDF } from '../helpers/resticSnapshots.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let src: string
const files = new Map<string, Buffer>()

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-damaged-')
  repo = join(tmp.path, 'repo')
  src = join(tmp.path, 'src')
  await mkdir(join(src, 'private'), { recursive: true, mode: 0o700 })
  for (let i = 0; i < 12; i++) files.set(`f-${String(i).padStart(2, '0')}`, randomBytes(30_000 + i * 100))
  files.set('private/secret', randomBytes(2_000))
  files.set('big', randomBytes(3_000_000))
  for (const [p, data] of files) await writeFile(join(src, p), data)
  await (await Repository.init({}, { repository: new LocalBackend(repo) }, { password: PASSWORD }, { kdf: CHEAP_KDF })).close()
}, 60_000)
afterAll(async () => tmp?.remove())

// with the on-disk cache (in the test's directory): what the CLI does by default
const cli = (args: string[]) => rustic(['-r', repo, '--cache-dir', join(tmp.path, 'cache'), '--no-progress', ...args])

async function snapshotList(): Promise<Array<{ id: string; parent?: string }>> {
  return JSON.parse((await cli(['snapshots', '--json'])).stdout.toString()) as Array<{ id: string; parent?: string }>
}

describe('a repository with damage, on the command line', () => {
  it('backup removes temp files that killed writes left behind over a day ago', async () => {
    const stale = join(repo, 'data', 'ab', 'new-tmp-0123456789ab')
    const fresh = join(repo, 'data', 'cd', 'new-tmp-ba9876543210')
    await writeFile(stale, randomBytes(1000))
    await writeFile(fresh, randomBytes(1000))
    const old = new Date(Date.now() - 25 * 3600 * 1000)
    await utimes(stale, old, old)
    const r = await cli(['backup', src])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(await readdir(join(repo, 'data', 'ab'))).not.toContain('new-tmp-0123456789ab')
    expect(await readdir(join(repo, 'data', 'cd'))).toContain('new-tmp-ba9876543210')
  })

  it('unreadable snapshot files are warnings naming them; snapshots, restore latest and the parent lookup go on', async () => {
    const [good] = await snapshotList()
    const r = await Repository.open({}, { repository: new LocalBackend(repo) }, { password: PASSWORD })
    const cut = await r.dbe.saveFile('snapshot', new TextEncoder().encode('{"time":"2030-01-01T00:00:00Z","tree":"'))
    const empty = await r.dbe.saveFile('snapshot', new TextEncoder().encode('{}'))
    const noise = randomBytes(200)
    const random = hashId(noise)
    await r.backend.writeBytes('snapshot', random, true, noise)
    await r.close()
    const damaged = [cut, empty, random]

    const list = await cli(['snapshots'])
    expect(list.code).toBe(0)
    for (const id of damaged) expect(list.stderr).toMatch(new RegExp(`^warning: skipping snapshot ${id}: it cannot be read \\(.+\\)$`, 'm'))
    expect(list.stdout.toString()).toContain(good!.id.slice(0, 8))

    const out = join(tmp.path, 'out-latest')
    const restored = await cli(['restore', 'latest', '--target', out])
    expect(restored.code).toBe(0)
    expect((await readFile(join(out, src, 'big'))).equals(files.get('big')!)).toBe(true)

    const again = await cli(['backup', src])
    expect(again.code).toBe(0)
    const snaps = (await snapshotList()).filter((s) => s.id !== good!.id)
    expect(snaps.map((s) => s.parent)).toEqual([good!.id])
  })

  it('restoring a sub-path gives the target directory the mode of the directory in the snapshot', async () => {
    const out = join(tmp.path, 'out-private')
    const r = await cli(['restore', `latest:${src}/private`, '--target', out])
    expect(r.code).toBe(0)
    expect((await stat(out)).mode & 0o7777).toBe(0o700)
    expect((await readFile(join(out, 'secret'))).equals(files.get('private/secret')!)).toBe(true)
  })

  it('restore with a pack cut short restores everything else, names the damaged files and exits 1', async () => {
    const packs: Array<{ path: string; size: number }> = []
    for (const sub of await readdir(join(repo, 'data'))) {
      for (const f of await readdir(join(repo, 'data', sub))) {
        if (f.includes('-tmp-')) continue
        packs.push({ path: join(repo, 'data', sub, f), size: (await stat(join(repo, 'data', sub, f))).size })
      }
    }
    const data = packs.sort((a, b) => b.size - a.size)[0]!
    await truncate(data.path, data.size - 1_000_000) // the end of the big file's data and the header
    const out = join(tmp.path, 'out-damaged')
    const r = await cli(['restore', 'latest', '--target', out])
    expect(r.code).toBe(1)
    const damaged = [...r.stderr.matchAll(/^warning: (.+) is not restored completely: cannot read \d+ bytes at offset \d+ of pack [0-9a-f]{64} at .+: the file is only (\d+) bytes long$/gm)]
    expect(damaged.length).toBeGreaterThan(0)
    for (const m of damaged) expect(Number(m[2])).toBe(data.size - 1_000_000)
    expect(r.stderr).toMatch(new RegExp(`^rustic-ts: error: ${damaged.length} file\\(s\\) could not be restored completely: the repository has damaged data \\(run check\\)$`, 'm'))
    const names = new Set(damaged.map((m) => m[1]))
    for (const [p, content] of files) {
      const path = join(out, src, p)
      if (names.has(path)) expect((await stat(path)).size).toBe(content.length)
      else expect((await readFile(path)).equals(content), p).toBe(true)
    }
  })
})
