// Restore benchmark: rustic-ts vs restic on the same repository, in one run.
//
//   npm run build && node bench/restore.mjs [--scale 1] [--rounds 3] [--repo-version 2] [--keep]
//
// Builds the standard data set (../shared/bench/mkdata.py) under /tmp, backs it up with restic, then
// restores the snapshot with `restic restore` and `rustic-ts restore` (the built CLI) alternately,
// `--rounds` times each, every time into a new directory, and prints wall time, CPU time and peak RSS
// (from `/usr/bin/time -f '%e %U %S %M'`) with the rustic-ts/restic ratios of the medians. The first
// round also checks that both restores hold the same bytes. A last pass times restoring onto a
// finished restore (rustic-ts plans and leaves everything alone; restic 0.14 rewrites every file).
// Nothing is deleted between runs (the data set and every restore stay until the end): on ext4 without a
// journal, as on the benchmark VM, creating an inode skips every inode freed in the last minute or more
// (`recently_deleted`), so a run right after deleting a restore paid several times the system time of one
// that did not, whichever tool it was. Everything under /tmp is removed at the end unless --keep (the disk
// needs room for 2 x rounds restores plus the data set).
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, lstatSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, MKDATA as SHARED_MKDATA, PASSWORD, dataSize, sh, spread } from './lib.mjs'

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}
const scale = arg('scale', '1')
const rounds = Number(arg('rounds', '3'))
const repoVersion = arg('repo-version', '2')
const keep = process.argv.includes('--keep')
const MKDATA = process.env.MKDATA ?? SHARED_MKDATA
if (!existsSync(CLI)) throw new Error(`${CLI} not found: run npm run build first`)
if (!existsSync(MKDATA)) throw new Error(`${MKDATA} not found (set MKDATA)`)

const env = { ...process.env, RESTIC_PASSWORD: PASSWORD, RUSTIC_PASSWORD: PASSWORD }
const dir = mkdtempSync(join(tmpdir(), 'rustic-bench-restore-'))
const repo = join(dir, 'repo')
const log = (s) => process.stderr.write(s + '\n')

/** Runs a command under /usr/bin/time (see lib.mjs); returns { wall, user, sys, rssMiB }. */
async function timed(cmd, args) {
  const r = await sh(cmd, args)
  return { wall: r.seconds, user: r.user, sys: r.sys, rssMiB: r.rssKiB / 1024 }
}

/** A new, empty restore target (nothing is deleted before a timed run: see the note at the top). */
function fresh(target) {
  if (existsSync(target)) throw new Error(`${target} exists`)
  spawnSync('sync') // (the previous run's dirty pages are written out before this one starts)
}

/** sha256 of every regular file below `root` (relative path -> hash), plus the symlink count. */
function hashes(root) {
  const out = new Map()
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) out.set(p.slice(root.length), createHash('sha256').update(readFileSync(p)).digest('hex'))
    }
  }
  walk(root)
  return out
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  log(`data set: mkdata.py --scale ${scale} in ${dir}`)
  execFileSync('python3', [MKDATA, join(dir, 'data'), '--scale', scale], { stdio: 'inherit' })
  execFileSync('restic', ['-r', repo, 'init', '--repository-version', repoVersion], { env, stdio: 'ignore' })
  execFileSync('restic', ['-r', repo, '--no-cache', 'backup', '-q', 'data'], { env, cwd: dir, stdio: 'ignore' })
  const du = execFileSync('du', ['-sm', join(dir, 'data'), repo]).toString().trim().split('\n').map((l) => l.split('\t')[0])
  log(`data ${du[0]} MiB, repository (v${repoVersion}) ${du[1]} MiB`)
  const size = await dataSize(join(dir, 'data'))

  const tools = {
    restic: (target) => timed('restic', ['-r', repo, '--no-cache', '-q', 'restore', 'latest', '--target', target]),
    'rustic-ts': (target) =>
      timed(CLI, ['-r', repo, '--no-cache', '--no-progress', 'restore', 'latest', '--target', target]),
  }
  const results = { restic: [], 'rustic-ts': [] }
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['restic', 'rustic-ts'] : ['rustic-ts', 'restic']
    for (const name of order) {
      const target = join(dir, `target-${name}-${i}`)
      fresh(target)
      const r = await tools[name](target)
      results[name].push(r)
      log(`round ${i + 1} ${name.padEnd(9)} ${r.wall.toFixed(2)} s  user ${r.user.toFixed(2)} s  sys ${r.sys.toFixed(2)} s  peak RSS ${r.rssMiB.toFixed(0)} MiB`)
    }
    if (i === 0) {
      const a = hashes(join(dir, 'target-restic-0'))
      const b = hashes(join(dir, 'target-rustic-ts-0'))
      const same = a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)
      if (!same) throw new Error('the two restores differ')
      log(`check: ${a.size} files, same content in both restores`)
    }
  }

  // restore again onto the finished restores
  const again = {}
  for (const name of ['restic', 'rustic-ts']) again[name] = await tools[name](join(dir, `target-${name}-0`))

  const m = (name, k) => median(results[name].map((r) => r[k]))
  const row = (label, k, unit, digits) => {
    const a = m('restic', k)
    const b = m('rustic-ts', k)
    const perRound = spread(results['rustic-ts'].map((r, i) => r[k] / results.restic[i][k]))
    return `${label.padEnd(14)} ${a.toFixed(digits).padStart(9)} ${b.toFixed(digits).padStart(11)} ${unit.padEnd(4)} ${(b / a).toFixed(2).padStart(7)}   ${perRound}`
  }
  console.log(`\nrestore of mkdata scale ${scale} (repository v${repoVersion}), median of ${rounds} runs`)
  console.log(`${''.padEnd(14)} ${'restic'.padStart(9)} ${'rustic-ts'.padStart(11)} ${''.padEnd(4)} ${'ratio'.padStart(7)}   per-round ratio min/med/max`)
  console.log(row('wall time', 'wall', 's', 2))
  console.log(row('user CPU', 'user', 's', 2))
  console.log(row('system CPU', 'sys', 's', 2))
  console.log(row('peak RSS', 'rssMiB', 'MiB', 0))
  const gib = size.bytes / 2 ** 30
  const kfiles = size.files / 1000
  const per = (name, unit) => `${(m(name, 'wall') / unit).toFixed(3)} s ${(m(name, 'rssMiB') / unit).toFixed(1)} MiB`
  console.log(
    `per GiB (${gib.toFixed(2)} GiB) ${per('rustic-ts', gib)} / restic ${per('restic', gib)}; per 1,000 files (${size.files}) ${per('rustic-ts', kfiles)} / restic ${per('restic', kfiles)}`,
  )
  console.log(
    `${'again (in place)'.padEnd(14)} ${again.restic.wall.toFixed(2).padStart(9)} ${again['rustic-ts'].wall.toFixed(2).padStart(11)} s    ${(again['rustic-ts'].wall / again.restic.wall).toFixed(2).padStart(7)}`,
  )
} finally {
  if (keep) log(`kept ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}
