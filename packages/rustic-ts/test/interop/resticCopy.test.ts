import { appendFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cheapKey } from '../helpers/cheapKey.js'
import { makeDataset } from '../helpers/dataset.js'
import { restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'
import { treeFacts } from '../helpers/treeCompare.js'

const SOURCE_PW = 'the-source-password'

let tmp: Awaited<ReturnType<typeof tempDir>>
let data: string
let src: string
let srcPwFile: string
let sourceSnapshots: Array<{ id: string; tree: string; time: string }>

const sourceRestic = (args: string[]) => restic(src, args, { RESTIC_PASSWORD: SOURCE_PW })

beforeAll(async () => {
  tmp = await tempDir()
  data = join(tmp.path, 'data')
  await makeDataset(data, { bigFileMiB: 2 })
  src = join(tmp.path, 'src')
  srcPwFile = join(tmp.path, 'src-pw')
  await writeFile(srcPwFile, `${SOURCE_PW}\n`)
  await sourceRestic(['init'])
  await cheapKey(src, SOURCE_PW)
  await sourceRestic(['backup', '--tag', 'first', data])
  await appendFile(join(data, 'a', 'hello.txt'), 'changed\n')
  await sourceRestic(['backup', '--host', 'other', data])
  sourceSnapshots = JSON.parse((await sourceRestic(['snapshots', '--json'])).toString()) as typeof sourceSnapshots
}, 120_000)
afterAll(async () => tmp?.remove())

describe('copy into a repository made by restic init', () => {
  for (const version of [2, 1]) {
    it(`v${version} target: restic restores the copies identically, restic check --read-data passes, a second copy copies nothing`, async () => {
      const dst = join(tmp.path, `dst-v${version}`)
      await restic(dst, ['init', '--repository-version', String(version)])
      await cheapKey(dst)
      const copy = ['-r', dst, '--no-cache', '--json', 'copy', '--from-repo', src, '--from-password-file', srcPwFile]
      const first = JSON.parse((await rusticOk(copy)).toString()) as { copied: Array<{ source: string; target: string }>; skipped: unknown[] }
      expect(first.copied.map((c) => c.source).sort()).toEqual(sourceSnapshots.map((s) => s.id).sort())
      expect(first.skipped).toEqual([])

      await restic(dst, ['check', '--read-data'])
      const copies = JSON.parse((await restic(dst, ['snapshots', '--json'])).toString()) as Array<{ id: string; tree: string; time: string; original: string; hostname: string; tags?: string[] }>
      for (const s of sourceSnapshots) {
        const c = copies.find((x) => x.original === s.id)!
        expect([c.tree, c.time]).toEqual([s.tree, s.time])
      }
      const latest = copies.find((c) => c.hostname === 'other')!
      const target = join(tmp.path, `restore-v${version}`)
      await restic(dst, ['restore', latest.id, '--target', target])
      const want = await treeFacts(data, { dirMtimes: false })
      const got = await treeFacts(join(target, data), { dirMtimes: false })
      expect([...got.keys()]).toEqual([...want.keys()])
      for (const [path, facts] of want) expect(got.get(path), path).toEqual(facts)

      const second = JSON.parse((await rusticOk(copy)).toString()) as { copied: unknown[]; skipped: unknown[]; data_blobs: number; tree_blobs: number }
      expect(second).toMatchObject({ copied: [], data_blobs: 0, tree_blobs: 0 })
      expect(second.skipped).toHaveLength(2)
      // restic's own copy recognises our copies (they name their originals) and copies nothing either
      const theirs = await restic(dst, ['copy', '--from-repo', src], { RESTIC_FROM_PASSWORD: SOURCE_PW })
      expect(theirs.toString()).not.toMatch(/snapshot [0-9a-f]{8} saved/)
      expect(JSON.parse((await restic(dst, ['snapshots', '--json'])).toString())).toHaveLength(2)
    })
  }

  it('copies the snapshots named or filtered; a wrong source password fails naming the source', async () => {
    const dst = join(tmp.path, 'dst-filtered')
    await restic(dst, ['init'])
    await cheapKey(dst)
    await rusticOk(['-r', dst, '--no-cache', 'copy', '--from-repo', src, '--from-password-file', srcPwFile, '--host', 'other'])
    const copies = JSON.parse((await restic(dst, ['snapshots', '--json'])).toString()) as Array<{ hostname: string }>
    expect(copies.map((c) => c.hostname)).toEqual(['other'])
    const bad = await rustic(['-r', dst, '--no-cache', 'copy', '--from-repo', src], { RUSTIC_FROM_PASSWORD: 'wrong' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`incorrect password for local:${src}`)
    expect(bad.stderr).not.toContain('wrong')
  })
})
