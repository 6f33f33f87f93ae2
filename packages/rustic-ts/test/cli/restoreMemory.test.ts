/**
 * Issue 20 acceptance, restore memory: restoring a snapshot of many small files must not hold memory in
 * proportion to the number of files. 100,000 files of 0–512 bytes in 1,000 directories (made by the
 * benchmarks' seeded generator, `bench/manyFiles.mjs`), backed up by restic, restored by the built CLI in a
 * child process; its peak RSS (`/usr/bin/time`) must stay under 250 MiB.
 * A plan of objects per file (node, paths, blob list) peaked at ~380–395 MiB here; the compact entries at
 * ~220 MiB; with the files and reads in typed arrays too (and the CLI's glibc mmap threshold) ~150 MiB on
 * 2 cores, of which ~80 MiB is Node itself with the repository's index. The bound leaves room for up to
 * 4 workers (one per core, at most `readConcurrency`) on larger machines. Not a timed test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSet } from '../../../../bench/manyFiles.mjs'
import { resticInit } from '../helpers/cheapKey.js'
import { CLI, PASSWORD, restic, run, tempDir } from '../helpers/restic.js'

const FILES = 100_000
const DIRS = 1_000
const MAX_SIZE = 512
/** Generous (~1.7x the ~150 MiB measured on 2 cores): more cores start more workers (up to 4). */
const MAX_RSS_MIB = 250
const TIME = '/usr/bin/time'

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let repo: string

/** A file's path below the set's root, as `makeSet` names it. */
const filePath = (i: number): string => join(`d${String(i % DIRS).padStart(4, '0')}`, `f${i}`)

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-restore-memory-')
  src = join(tmp.path, 'src')
  repo = join(tmp.path, 'repo')
  makeSet(src, FILES, DIRS, MAX_SIZE) // the benchmarks' seeded generator: half text, half random bytes
  await resticInit(repo)
  await restic(repo, ['backup', '-q', '--host', 'h', src])
}, 600_000)

afterAll(async () => {
  await tmp?.remove()
})

describe('restore memory (issue 20)', () => {
  it(`restores ${FILES} small files with a peak RSS under ${MAX_RSS_MIB} MiB`, { timeout: 600_000 }, async () => {
    expect(existsSync(TIME), `${TIME} (GNU time) is needed to read the child's peak RSS`).toBe(true)
    const target = join(tmp.path, 'target')
    const rssFile = join(tmp.path, 'rss')
    const r = await run(TIME, ['-f', '%M', '-o', rssFile, CLI, '-r', repo, '--no-cache', '--no-progress', 'restore', 'latest', '--target', target], {
      RUSTIC_PASSWORD: PASSWORD,
    })
    expect(r.code, r.stderr).toBe(0)
    const rssMiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024
    console.log(`restore of ${FILES} files: peak RSS ${rssMiB.toFixed(0)} MiB (bound ${MAX_RSS_MIB} MiB)`)

    // the restore is complete and right (spot checks: every directory, a sample of contents)
    const restored = join(target, src)
    expect(readdirSync(restored).length).toBe(DIRS)
    let files = 0
    for (const d of readdirSync(restored)) files += readdirSync(join(restored, d)).length
    expect(files).toBe(FILES)
    for (const i of [0, 1, 4_999, 54_321, FILES - 1]) {
      const rel = filePath(i)
      expect(readFileSync(join(restored, rel)).equals(readFileSync(join(src, rel))), rel).toBe(true)
    }

    expect(rssMiB).toBeGreaterThan(0)
    expect(rssMiB).toBeLessThan(MAX_RSS_MIB)
  })
})
