// Backup benchmark: full, incremental (after mkdata --mutate) and unchanged backups of the standard
// data set, rustic-ts vs restic, in one run. Prints times, peak RSS and ratios (rustic-ts / restic).
// Usage: npm run build && node bench/backup.mjs [--scale 1] [--runs 1] [--keep]
import { mkdtemp, rm, cp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CLI, MKDATA, compare, dataSize, report, reportPerUnit, sh } from './lib.mjs'

const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' }, runs: { type: 'string', default: '1' }, keep: { type: 'boolean' } } })
const runs = Number(values.runs)
const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-bench-backup-'))
const data = join(dir, 'data')
console.log(`data set: mkdata.py --scale ${values.scale} in ${data}`)
await sh('python3', [MKDATA, data, '--scale', values.scale])
const size = await dataSize(data)
console.log(`data size: ${(size.bytes / 2 ** 20).toFixed(0)} MiB, ${size.files} files; runs per case: ${runs}`)

const rusticBackup = (repo) => sh(CLI, ['-r', repo, '--no-cache', '--no-progress', 'backup', '--json', data])
const resticBackup = (repo) => sh('restic', ['-r', repo, '--no-cache', '--quiet', 'backup', '--json', data])
const repos = (i) => ({ rustic: join(dir, `rustic-${i}`), restic: join(dir, `restic-${i}`) })

const rows = []
// Full: a fresh repository per run.
rows.push(
  await compare(
    'full',
    async (i) => {
      await sh(CLI, ['-r', repos(i).rustic, 'init'])
      return rusticBackup(repos(i).rustic)
    },
    async (i) => {
      await sh('restic', ['-r', repos(i).restic, 'init'])
      return resticBackup(repos(i).restic)
    },
    runs,
  ),
)
// Unchanged: a second backup with nothing changed (parent detection only).
rows.push(await compare('unchanged', () => rusticBackup(repos(0).rustic), () => resticBackup(repos(0).restic), runs))
// Incremental: mutate ~5%, back up once into copies of the full repositories (one mutation, so runs share it).
await sh('python3', [MKDATA, data, '--mutate'])
rows.push(
  await compare(
    'incremental',
    async (i) => {
      const repo = join(dir, `rustic-inc-${i}`)
      await cp(repos(0).rustic, repo, { recursive: true })
      return rusticBackup(repo)
    },
    async (i) => {
      const repo = join(dir, `restic-inc-${i}`)
      await cp(repos(0).restic, repo, { recursive: true })
      return resticBackup(repo)
    },
    runs,
  ),
)
report('backup: rustic-ts vs restic (lower ratio is better; targets: time ratio full/incremental <= 0.6, unchanged <= 0.5; RSS ratio <= 1.2)', rows)
reportPerUnit(rows, size)
if (!values.keep) await rm(dir, { recursive: true, force: true })
else console.log(`kept ${dir}`)
