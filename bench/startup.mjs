// Start-up benchmark: `snapshots` on a repository of 1,000 snapshots and `ls latest` on a snapshot of
// 200,000 files, rustic-ts vs restic on the same repositories, in one run.
//
//   npm run build && node bench/startup.mjs [--scale 1] [--runs 3] [--modes no-cache,cache] [--keep] [--data DIR] [--cli FILE]
//
// `--keep` keeps the repositories (and says where); `--data DIR` times those of an earlier `--keep` run instead
// of building new ones; `--cli FILE` times another build of the CLI (e.g. a copy of an older dist/cli.js
// kept inside packages/rustic-ts, so that it finds its dependencies) in place of bin/rustic-ts.js.
//
// Builds under /tmp (both repositories made by `restic init`, so both tools derive the same calibrated key):
//   snapshots: 4 real backups of a small tree (2 by restic, 2 by rustic-ts: with and without a summary), then
//              copies of them through the rustic-ts library up to 1,000 snapshot files with different
//              times, hosts, tags and paths (`restic snapshots --json` must list all 1,000);
//   files:     one restic backup of bench/manyFiles.mjs' deterministic set of 200,000 files of 0-4 KiB in
//              2,000 directories (`--scale` multiplies the file and directory counts, not the snapshots).
// Then times, per mode (`no-cache`: both with --no-cache; `cache`: both with a cache of their own, filled by
// an untimed run first), `--runs` times per tool, interleaved, with stdout to /dev/null:
//   start      `--help` (start the program and print its help: loading the program, no repository)
//   open       `cat config` (start the program, derive the key, read the config: what every command pays)
//   snapshots  `snapshots` and `snapshots --json`
//   ls         `ls latest` and `ls --json latest`
// and prints best and median wall time, median CPU (user + system) seconds, the highest peak RSS
// (/usr/bin/time -f '%e %U %S %M') and the ratios rustic-ts / restic. Before timing it checks that both tools
// list the same number of snapshots and the same `ls` entries (the text lines byte-identical, but for the
// snapshot line heading them).
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI as INSTALLED_CLI, flag, PASSWORD, ROOT, sh } from './lib.mjs'
import { makeSet } from './manyFiles.mjs'

const scale = Number(flag('scale', '1'))
const runs = Number(flag('runs', '3'))
const modes = flag('modes', 'no-cache,cache').split(',')
const reuse = flag('data', undefined)
const keep = process.argv.includes('--keep') || reuse !== undefined
const CLI = flag('cli', INSTALLED_CLI)
const SNAPSHOTS = 1000
const LIB = join(ROOT, 'packages/rustic-ts/dist/index.js')
if (!existsSync(LIB)) throw new Error(`${LIB} not found: run npm run build first`)
const { openRepository } = await import(LIB)

const dir = reuse ?? mkdtempSync(join(tmpdir(), 'rustic-bench-startup-'))
const log = (s) => process.stderr.write(s + '\n')
const snapRepo = join(dir, 'repo-snapshots')
const filesRepo = join(dir, 'repo-files')

/** The repository of 1,000 snapshots: 4 real backups, then modified copies of them (same trees). */
async function makeSnapshotsRepo() {
  const data = join(dir, 'data-snapshots')
  makeSet(data, 200, 10, 4096)
  await sh('restic', ['-r', snapRepo, 'init'])
  for (const host of ['alpha', 'beta']) await sh('restic', ['-r', snapRepo, '--no-cache', 'backup', '--host', host, '--tag', 'real', '.'], {}, data)
  for (const host of ['gamma', 'delta']) await sh(CLI, ['-r', snapRepo, '--no-cache', '--no-progress', 'backup', '--host', host, '--tag', 'real', '.'], {}, data)
  const repo = await openRepository({ noCache: true }, { repository: snapRepo }, { password: PASSWORD })
  try {
    const bases = await repo.getSnapshots()
    const t0 = Date.parse('2024-01-01T00:00:00Z')
    const copies = []
    for (let i = bases.length; i < SNAPSHOTS; i++) {
      const { id: _id, ...base } = bases[i % bases.length]
      const ns = String((i * 7919) % 1_000_000).padStart(6, '0')
      copies.push({
        ...base,
        time: new Date(t0 + i * 3_600_000).toISOString().replace('Z', `${ns}Z`),
        hostname: `host-${i % 7}`,
        tags: i % 3 === 0 ? [] : [`tag${i % 5}`, ...(i % 4 === 0 ? ['monthly'] : [])],
        paths: i % 2 === 0 ? base.paths : [`/srv/set${i % 4}`, ...base.paths],
        parent: bases[i % bases.length].id,
      })
    }
    for (let i = 0; i < copies.length; i += 32) await Promise.all(copies.slice(i, i + 32).map((s) => repo.saveSnapshot(s)))
  } finally {
    await repo.close()
  }
  rmSync(data, { recursive: true, force: true })
}

/** The repository holding one snapshot of the many-files set. */
async function makeFilesRepo(files, dirs) {
  const data = join(dir, 'data-files')
  makeSet(data, files, dirs, 4096)
  await sh('restic', ['-r', filesRepo, 'init'])
  await sh('restic', ['-r', filesRepo, '--no-cache', 'backup', '--host', 'bench', '.'], {}, data)
  rmSync(data, { recursive: true, force: true })
}

const cacheFlags = (mode, tool) => (mode === 'no-cache' ? ['--no-cache'] : ['--cache-dir', join(dir, `cache-${tool}`)])
const rusticArgs = (repo, mode, args) => ['-r', repo, ...cacheFlags(mode, 'rustic'), '--no-progress', ...args]
const resticArgs = (repo, mode, args) => ['-r', repo, ...cacheFlags(mode, 'restic'), ...args]
const sha = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16)

/** Checks that both tools list the same snapshots and `ls` lines. */
async function checkOutputs() {
  const count = async (cmd, args) => JSON.parse((await sh(cmd, args)).stdout).length
  const nRestic = await count('restic', resticArgs(snapRepo, 'no-cache', ['snapshots', '--json']))
  const nRustic = await count(CLI, rusticArgs(snapRepo, 'no-cache', ['snapshots', '--json']))
  log(`snapshots: restic lists ${nRestic}, rustic-ts ${nRustic}`)
  if (nRestic !== SNAPSHOTS || nRustic !== SNAPSHOTS) throw new Error(`expected ${SNAPSHOTS} snapshots from both tools`)
  for (const args of [['ls', 'latest'], ['ls', '--json', 'latest']]) {
    // the first line (the snapshot) is each tool's own: restic 0.14's text header is not copied
    const body = (s) => s.slice(s.indexOf('\n') + 1)
    const a = body((await sh('restic', resticArgs(filesRepo, 'no-cache', args))).stdout)
    const b = body((await sh(CLI, rusticArgs(filesRepo, 'no-cache', args))).stdout)
    const lines = (s) => s.split('\n').length - 1
    log(`${args.join(' ')}: restic ${lines(a)} entries (${sha(a)}), rustic-ts ${lines(b)} entries (${sha(b)})`)
    if (lines(a) !== lines(b)) throw new Error(`${args.join(' ')}: the tools list different numbers of entries`)
    if (args.length === 2 && a !== b) throw new Error(`${args.join(' ')}: the outputs differ`)
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Times one case, both tools interleaved, `runs` times each (after an untimed run filling the caches in `cache` mode). */
async function timeCase(name, repo, mode, args) {
  const tools = { restic: ['restic', resticArgs(repo, mode, args)], rustic: [CLI, rusticArgs(repo, mode, args)] }
  if (mode === 'cache') for (const [cmd, a] of Object.values(tools)) await sh(cmd, a, {}, undefined, { stdout: 'ignore' })
  const res = { restic: [], rustic: [] }
  for (let i = 0; i < runs; i++) for (const [k, [cmd, a]] of Object.entries(tools)) res[k].push(await sh(cmd, a, {}, undefined, { stdout: 'ignore' }))
  const sum = (rs) => ({
    best: Math.min(...rs.map((r) => r.seconds)),
    median: median(rs.map((r) => r.seconds)),
    cpu: median(rs.map((r) => r.user + r.sys)),
    rssMiB: Math.max(...rs.map((r) => r.rssKiB)) / 1024,
  })
  return { name, rustic: sum(res.rustic), restic: sum(res.restic) }
}

function printTable(title, rows) {
  console.log(`\n${title}`)
  const head = ['case', 'rustic best', 'median', 'cpu', 'MiB', 'restic best', 'median', 'cpu', 'MiB', 'ratio best', 'median', 'cpu', 'RSS']
  console.log(head.map((h, i) => (i === 0 ? h.padEnd(16) : h.padStart(i === 1 || i === 5 || i === 9 ? 12 : 7))).join(''))
  for (const { name, rustic: a, restic: b } of rows) {
    const cells = [a.best, a.median, a.cpu, a.rssMiB, b.best, b.median, b.cpu, b.rssMiB, a.best / b.best, a.median / b.median, a.cpu / b.cpu, a.rssMiB / b.rssMiB]
    console.log(name.padEnd(16) + cells.map((c, i) => (i % 4 === 3 && i < 8 ? c.toFixed(0) : c.toFixed(2)).padStart(i === 0 || i === 4 || i === 8 ? 12 : 7)).join(''))
  }
}

try {
  const files = Math.round(200_000 * scale)
  const dirs = Math.max(1, Math.round(2_000 * scale))
  log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${reuse ? 'reusing' : 'building'} ${SNAPSHOTS} snapshots and ${files} files in ${dirs} directories under ${dir}; CLI ${CLI}`)
  if (reuse === undefined) {
    await makeSnapshotsRepo()
    await makeFilesRepo(files, dirs)
  }
  await checkOutputs()
  for (const mode of modes) {
    const rows = []
    rows.push(await timeCase('start (--help)', snapRepo, mode, ['--help']))
    rows.push(await timeCase('open (cat cfg)', snapRepo, mode, ['cat', 'config']))
    rows.push(await timeCase('snapshots', snapRepo, mode, ['snapshots']))
    rows.push(await timeCase('snapshots json', snapRepo, mode, ['snapshots', '--json']))
    rows.push(await timeCase('ls', filesRepo, mode, ['ls', 'latest']))
    rows.push(await timeCase('ls json', filesRepo, mode, ['ls', '--json', 'latest']))
    printTable(`${mode === 'no-cache' ? '--no-cache (both)' : 'with a cache (both, filled by a first run)'}: ${SNAPSHOTS} snapshots; ls of ${files} files in ${dirs} directories; ${runs} runs each; seconds and peak RSS`, rows)
  }
  log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true })
  else log(`kept ${dir}`)
}
