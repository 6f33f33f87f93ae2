import { readdir, stat, cp } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileHashes, makeDataset } from '../helpers/dataset.js'
import { resticInit } from '../helpers/cheapKey.js'
import { restic, rustic, tempDir } from '../helpers/restic.js'
import { flipByte } from '../helpers/flipByte.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let pristine: string
let src: string

beforeAll(async () => {
  tmp = await tempDir()
  src = join(tmp.path, 'src')
  await makeDataset(src, { bigFileMiB: 3 })
  pristine = join(tmp.path, 'pristine')
  await resticInit(pristine)
  await restic(pristine, ['backup', src])
})
afterAll(async () => tmp?.remove())

async function copyRepo(name: string): Promise<string> {
  const dir = join(tmp.path, name)
  await cp(pristine, dir, { recursive: true })
  return dir
}

async function onlyFile(dir: string): Promise<string> {
  const names = await readdir(dir)
  expect(names).toHaveLength(1)
  return names[0]!
}

describe('a flipped byte is reported naming the file', () => {
  it('in a snapshot file', async () => {
    const repo = await copyRepo('t-snap')
    const name = await onlyFile(join(repo, 'snapshots'))
    await flipByte(join(repo, 'snapshots', name), 40)
    // as restic: the listing goes on without it (exit 0), warning about the damaged file
    const r = await rustic(['-r', repo, '--no-cache', 'snapshots'])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(`snapshot ${name}`)
    expect(r.stderr).toMatch(/corrupted|MAC/)
  })

  it('in an index file', async () => {
    const repo = await copyRepo('t-index')
    const name = await onlyFile(join(repo, 'index'))
    await flipByte(join(repo, 'index', name), 40)
    const r = await rustic(['-r', repo, '--no-cache', 'ls', 'latest'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`index ${name}`)
    expect(r.stderr).toMatch(/corrupted|MAC/)
  })

  it('in a pack file (MAC check of the blob read from it)', async () => {
    const repo = await copyRepo('t-pack')
    // The largest pack holds the data blobs of big.bin; flip a byte inside its first blob.
    let largest = { path: '', size: 0, name: '' }
    for (const sub of await readdir(join(repo, 'data'))) {
      for (const name of await readdir(join(repo, 'data', sub))) {
        const p = join(repo, 'data', sub, name)
        const { size } = await stat(p)
        if (size > largest.size) largest = { path: p, size, name }
      }
    }
    await flipByte(largest.path, 100)
    // Whichever file owns the blob holding that byte now fails to dump, naming the blob and the pack; the others still work.
    const failures: string[] = []
    for (const rel of (await fileHashes(src)).keys()) {
      const r = await rustic(['-r', repo, '--no-cache', 'dump', `latest:${join(src, rel)}`])
      if (r.code !== 0) failures.push(r.stderr)
    }
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatch(new RegExp(`MAC check failed for data blob [0-9a-f]{64} in pack ${largest.name} at offset \\d+: `))
  })

  it('in the config file', async () => {
    const repo = await copyRepo('t-config')
    await flipByte(join(repo, 'config'), 20)
    const r = await rustic(['-r', repo, '--no-cache', 'snapshots'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/MAC check failed for config/)
  })
})
