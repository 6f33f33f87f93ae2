// Many-files benchmark: rustic-ts vs restic on the same data, in one run.
//
//   npm run build && node bench/smallfiles.mjs [--scale 1] [--runs 2] [--keep]
//
// Two data sets, made deterministically under /tmp (a seeded generator, the same bytes every time):
//   small: 200,000 files of 0-4 KiB (uniform sizes, half compressible text, half random bytes) in 2,000 directories
//   empty: 100,000 empty files in 1,000 directories
// (`--scale` multiplies the counts: 0.01 for a smoke run.) For each set it times, per tool, a full backup
// into a new repository, an unchanged backup (same data again: parent detection only) and a restore of
// the snapshot into an empty directory, `--runs` times each, interleaved; best time, highest peak RSS
// (/usr/bin/time), and the ratios rustic-ts / restic, with time and RSS per 1,000 files.
import { mkdtempSync, rmSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, compare, report, sh } from './lib.mjs'
import { makeSet, manyFilesSets } from './manyFiles.mjs'

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}
const scale = Number(arg('scale', '1'))
const runs = Number(arg('runs', '2'))
const keep = process.argv.includes('--keep')
const dir = mkdtempSync(join(tmpdir(), 'rustic-bench-smallfiles-'))
const log = (s) => process.stderr.write(s + '\n')

const fresh = (p) => {
  rmSync(p, { recursive: true, force: true })
  spawnSync('sync')
}

const perThousand = (rows, files) => {
  for (const { name, rustic, restic } of rows) {
    log(
      `${name}: per 1,000 files rustic-ts ${((rustic.seconds * 1000) / files).toFixed(3)} s / ${((rustic.rssKiB / 1024) * (1000 / files)).toFixed(2)} MiB, ` +
        `restic ${((restic.seconds * 1000) / files).toFixed(3)} s / ${((restic.rssKiB / 1024) * (1000 / files)).toFixed(2)} MiB`,
    )
  }
}

try {
  const sets = manyFilesSets(scale)
  for (const set of sets) {
    const data = join(dir, set.name)
    log(`${set.name}: ${set.files} files in ${set.dirs} directories under ${data}`)
    makeSet(data, set.files, set.dirs, set.maxSize)
    const repo = (tool, i) => join(dir, `${set.name}-${tool}-${i}`)
    const rows = []
    rows.push(
      await compare(
        'full',
        async (i) => {
          await sh(CLI, ['-r', repo('rustic', i), 'init'])
          return sh(CLI, ['-r', repo('rustic', i), '--no-cache', '--no-progress', 'backup', '--json', '.'], {}, data)
        },
        async (i) => {
          await sh('restic', ['-r', repo('restic', i), 'init'])
          return sh('restic', ['-r', repo('restic', i), '--no-cache', '--quiet', 'backup', '--json', '.'], {}, data)
        },
        runs,
      ),
    )
    rows.push(
      await compare(
        'unchanged',
        () => sh(CLI, ['-r', repo('rustic', 0), '--no-cache', '--no-progress', 'backup', '--json', '.'], {}, data),
        () => sh('restic', ['-r', repo('restic', 0), '--no-cache', '--quiet', 'backup', '--json', '.'], {}, data),
        runs,
      ),
    )
    // both restore the same (restic-written) snapshot, each run into a new directory: nothing is deleted
    // until all are done (on ext4 without a journal, creating inodes right after deleting many costs
    // several times the system time: see bench/README.md, Restore)
    const target = (tool, i) => join(dir, `${set.name}-out-${tool}-${i}`)
    rows.push(
      await compare(
        'restore',
        (i) => (spawnSync('sync'), sh(CLI, ['-r', repo('restic', 0), '--no-cache', '--no-progress', 'restore', 'latest', '--target', target('rustic', i)])),
        (i) => (spawnSync('sync'), sh('restic', ['-r', repo('restic', 0), '--no-cache', '--quiet', 'restore', 'latest', '--target', target('restic', i)])),
        runs,
      ),
    )
    for (let i = 0; i < runs; i++) for (const t of ['rustic', 'restic']) fresh(target(t, i))
    report(`${set.name}: ${set.files} files (${set.maxSize === 0 ? 'empty' : `0-${set.maxSize} bytes`}) in ${set.dirs} directories`, rows)
    perThousand(rows, set.files)
    if (!keep) {
      for (let i = 0; i < runs; i++) for (const t of ['rustic', 'restic']) rmSync(repo(t, i), { recursive: true, force: true })
      rmSync(data, { recursive: true, force: true })
    }
  }
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true })
  else log(`kept ${dir}`)
}
