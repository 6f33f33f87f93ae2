import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeDataset } from '../helpers/dataset.js'
import { resticInit } from '../helpers/cheapKey.js'
import { PASSWORD, restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'

const run = promisify(execFile)
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

interface TarEntry {
  name: string
  type: string
  mode: number
  size: number
  linkname: string | null
  uid: number
  gid: number
  mtime: number
  sha: string
}

async function readTar(bytes: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = []
  const ex = tar.extract()
  Readable.from([bytes]).pipe(ex)
  for await (const entry of ex) {
    const h = createHash('sha256')
    for await (const chunk of entry) h.update(chunk as Buffer)
    const hd = entry.header
    out.push({
      name: hd.name.replace(/\/$/, ''),
      type: hd.type,
      mode: hd.mode,
      size: hd.size,
      linkname: hd.linkname || null,
      uid: hd.uid,
      gid: hd.gid,
      mtime: Math.floor(hd.mtime.getTime() / 1000),
      sha: h.digest('hex'),
    })
  }
  return out
}

describe('dump against restic', () => {
  let repo: string
  let data: string

  beforeAll(async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    data = join(tmp.path, 'data')
    await makeDataset(data, { bigFileMiB: 2 })
    repo = join(tmp.path, 'repo')
    await resticInit(repo)
    await run('restic', ['-r', repo, '--no-cache', 'backup', 'data'], { cwd: tmp.path, env: { ...process.env, RESTIC_PASSWORD: PASSWORD } })
  })

  it('writes a file to stdout', async () => {
    const ours = await rusticOk(['-r', repo, '--no-cache', 'dump', 'latest:/data/big.bin'])
    expect(ours.equals(await readFile(join(data, 'big.bin')))).toBe(true)
    const restic2 = await rusticOk(['-r', repo, '--no-cache', 'dump', 'latest', '/data/log.txt'])
    expect(restic2.equals(await readFile(join(data, 'log.txt')))).toBe(true)
  })

  it('writes a directory as a tar stream with the entries restic dump writes', async () => {
    for (const path of ['/data', '/data/a']) {
      const ours = await readTar(await rusticOk(['-r', repo, '--no-cache', 'dump', `latest:${path}`]))
      const theirs = await readTar(await restic(repo, ['dump', 'latest', path]))
      expect(ours.length).toBeGreaterThan(3)
      expect(ours.map((e) => e.name)).toEqual(theirs.map((e) => e.name))
      for (let i = 0; i < ours.length; i++) {
        const { mtime: m1, ...a } = ours[i]!
        const { mtime: m2, ...b } = theirs[i]!
        expect(a).toEqual(b)
        expect(Math.abs(m1 - m2)).toBeLessThanOrEqual(1) // restic rounds to the second
      }
    }
  })

  it('refuses a symlink and unknown archive formats', async () => {
    const r = await rustic(['-r', repo, '--no-cache', 'dump', 'latest:/data/link-to-hello'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/is a symlink/)
    const z = await rustic(['-r', repo, '--no-cache', 'dump', '--archive', 'zip', 'latest:/data'])
    expect(z.code).toBe(1)
    expect(z.stderr).toMatch(/unsupported archive format/)
  })
})
