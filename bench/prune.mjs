// Prune benchmark: the standard data set backed up as several snapshots (mkdata --mutate between them)
// by restic, half of the snapshots forgotten, then `restic prune` and `rustic-ts prune` each on its own
// copy of that repository. Prints times, peak RSS, ratios (rustic-ts / restic) and the sizes left.
// Usage: npm run build && node bench/prune.mjs [--scale 1] [--snapshots 4] [--runs 1] [--check] [--keep]
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CLI, MKDATA, compare, report, sh } from './lib.mjs'

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    snapshots: { type: 'string', default: '4' },
    runs: { type: 'string', default: '1' },
    check: { type: 'boolean' },
    keep: { type: 'boolean' },
  },
})
const runs = Number(values.runs)
const snapshots = Math.max(2, Number(values.snapshots))
const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-bench-prune-'))
const data = join(dir, 'data')
const base = join(dir, 'base')

async function size(path) {
  let total = 0
  for (const e of await readdir(path, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size
  return total
}
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`

console.log(`data set: mkdata.py --scale ${values.scale}, ${snapshots} snapshots by restic (--mutate between them), the older half forgotten`)
await sh('python3', [MKDATA, data, '--scale', values.scale])
await sh('restic', ['-r', base, 'init', '--quiet'])
for (let i = 0; i < snapshots; i++) {
  if (i > 0) await sh('python3', [MKDATA, data, '--mutate'])
  await sh('restic', ['-r', base, '--no-cache', '--quiet', 'backup', data])
}
await sh('restic', ['-r', base, '--no-cache', '--quiet', 'forget', '--keep-last', String(Math.ceil(snapshots / 2))])
console.log(`repository before prune: ${mib(await size(base))}; runs per case: ${runs}`)

/** A fresh copy of the forgotten-but-not-pruned repository for one run. */
async function copy(name, i) {
  const repo = join(dir, `${name}-${i}`)
  await rm(repo, { recursive: true, force: true })
  await cp(base, repo, { recursive: true })
  return repo
}

const after = {}
const resticPrune = async (i) => {
  const repo = await copy('restic', i)
  const r = await sh('restic', ['-r', repo, '--no-cache', '--quiet', 'prune'])
  after.restic = repo
  return r
}
const rusticPrune = (name, flags) => async (i) => {
  const repo = await copy(name, i)
  const r = await sh(CLI, ['-r', repo, '--no-cache', '--no-progress', 'prune', ...flags])
  after[name] = repo
  return r
}

// the same work as restic's prune: remove at once, no repack limit, no resizing of restic's packs
const sameWork = ['--instant-delete', '--max-repack', 'unlimited', '--no-resize']
const rows = [
  await compare('as restic', rusticPrune('rustic', sameWork), resticPrune, runs),
  await compare('two-phase', rusticPrune('rustic-default', []), resticPrune, runs),
]
report('prune: rustic-ts vs restic (lower ratio is better; "two-phase" is rustic-ts\'s default: marks instead of removing)', rows)
console.log(`\nrepository after prune: restic ${mib(await size(after.restic))}, rustic-ts as restic ${mib(await size(after.rustic))}, rustic-ts two-phase ${mib(await size(after['rustic-default']))} (marked packs still there)`)
if (values.check) {
  for (const name of ['rustic', 'rustic-default']) {
    await sh('restic', ['-r', after[name], '--no-cache', '--quiet', 'check', '--read-data'])
    console.log(`restic check --read-data after rustic-ts prune (${name}): ok`)
  }
}
if (!values.keep) await rm(dir, { recursive: true, force: true })
else console.log(`kept ${dir}`)
