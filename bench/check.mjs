// Check benchmark: `rustic-ts check --read-data` vs `restic check --read-data` on the same repository.
//
//   npm run build && node bench/check.mjs [--scale 1] [--runs 3] [--repo-version 2] [--keep]
//
// Builds the standard data set (mkdata.py --scale S) under /tmp, backs it up with restic, then runs
// both checks (no cache, no progress) `--runs` times each, interleaved, and prints the best wall time,
// the highest peak RSS (GNU time) and the rustic-ts/restic ratios. Both must find no errors. Everything
// under /tmp is removed at the end unless --keep.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, compare, flag, MKDATA as SHARED_MKDATA, PASSWORD, report, sh } from './lib.mjs'

const scale = flag('scale', '1')
const runs = Number(flag('runs', '3'))
const repoVersion = flag('repo-version', '2')
const keep = process.argv.includes('--keep')
const MKDATA = process.env.MKDATA ?? SHARED_MKDATA
if (!existsSync(CLI)) throw new Error(`${CLI} not found: run npm run build first`)
if (!existsSync(MKDATA)) throw new Error(`${MKDATA} not found (set MKDATA)`)

const env = { ...process.env, RESTIC_PASSWORD: PASSWORD, RUSTIC_PASSWORD: PASSWORD }
const dir = mkdtempSync(join(tmpdir(), 'rustic-bench-check-'))
const repo = join(dir, 'repo')
const log = (s) => process.stderr.write(s + '\n')

try {
  log(`data set: mkdata.py --scale ${scale} in ${dir}`)
  execFileSync('python3', [MKDATA, join(dir, 'data'), '--scale', scale], { stdio: 'inherit' })
  execFileSync('restic', ['-r', repo, 'init', '--repository-version', repoVersion], { env, stdio: 'ignore' })
  execFileSync('restic', ['-r', repo, '--no-cache', 'backup', '-q', 'data'], { env, cwd: dir, stdio: 'ignore' })
  const du = execFileSync('du', ['-sm', repo]).toString().split('\t')[0]
  log(`repository (v${repoVersion}) ${du} MiB`)
  rmSync(join(dir, 'data'), { recursive: true, force: true })

  const row = await compare(
    'check --read-data',
    async () => {
      const r = await sh(CLI, ['-r', repo, '--no-cache', '--no-progress', 'check', '--read-data'])
      if (!r.stdout.includes('no errors were found')) throw new Error(`rustic-ts check: ${r.stdout}`)
      return r
    },
    () => sh('restic', ['-r', repo, '--no-cache', '-q', 'check', '--read-data']),
    runs,
  )
  report(`check of mkdata scale ${scale} (repository v${repoVersion}), best of ${runs}`, [row])
} finally {
  if (keep) log(`kept ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}
