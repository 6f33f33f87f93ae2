// Shared helpers of the benchmarks: run a command under GNU time, print ratio tables.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The `rustic-ts` command as installed (bin/rustic-ts.js, which runs the built CLI): through its shebang, with the Node flags it sets. */
export const CLI = fileURLToPath(new URL('../packages/rustic-ts/bin/rustic-ts.js', import.meta.url))
export const MKDATA = fileURLToPath(new URL('../../shared/bench/mkdata.py', import.meta.url))
export const PASSWORD = 'bench-password'

/**
 * Runs a command (in `cwd` if given; failing loudly on a non-zero exit); resolves with wall, user and system
 * seconds, peak RSS (KiB) — all by /usr/bin/time — and stdout (`''` with `stdout: 'ignore'`: the command
 * then writes to /dev/null).
 */
export function sh(cmd, args, env = {}, cwd = undefined, { stdout = 'pipe' } = {}) {
  if (!existsSync('/usr/bin/time')) throw new Error('benchmarks need GNU time: apt-get install time')
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '@@TIME %e %M %U %S', cmd, ...args], {
      env: { ...process.env, RUSTIC_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD, ...env },
      stdio: ['ignore', stdout, 'pipe'],
      cwd,
    })
    let out = ''
    let err = ''
    child.stdout?.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const m = /@@TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(err)
      if (code !== 0 || !m) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.slice(-2000)}`))
      resolve({ seconds: Number(m[1]), rssKiB: Number(m[2]), user: Number(m[3]), sys: Number(m[4]), stdout: out })
    })
  })
}

/**
 * Runs both tools (interleaved, `runs` times each). Keeps each one's best time and its highest peak RSS
 * (`rustic`, `restic`), and every round's pair (`rounds`) so that `report` can show the noise.
 */
export async function compare(name, rusticRun, resticRun, runs = 1) {
  const best = { rustic: undefined, restic: undefined }
  const rounds = []
  for (let i = 0; i < runs; i++) {
    const round = {}
    for (const [k, fn] of [['restic', resticRun], ['rustic', rusticRun]]) {
      const r = await fn(i)
      round[k] = r
      if (!best[k] || r.seconds < best[k].seconds) best[k] = { ...r, rssKiB: Math.max(r.rssKiB, best[k]?.rssKiB ?? 0) }
      else best[k].rssKiB = Math.max(best[k].rssKiB, r.rssKiB)
    }
    rounds.push(round)
  }
  return { name, rustic: best.rustic, restic: best.restic, rounds }
}

/** min / median / max of numbers, formatted with two decimals. */
export function spread(values) {
  const v = [...values].sort((a, b) => a - b)
  const med = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
  return `${v[0].toFixed(2)}/${med.toFixed(2)}/${v[v.length - 1].toFixed(2)}`
}

/**
 * Prints a table of comparisons with ratios rustic-ts / restic: best times, highest RSS, and, per round
 * (each round runs restic then rustic-ts back to back), the min/median/max of the ratios of wall time, CPU
 * time (user + system, steadier than wall time on a busy machine) and peak RSS.
 */
export function report(title, rows) {
  console.log(`\n${title}`)
  console.log(
    'case'.padEnd(14),
    'rustic-ts s'.padStart(12),
    'restic s'.padStart(10),
    'time ratio'.padStart(11),
    'rustic MiB'.padStart(11),
    'restic MiB'.padStart(11),
    'RSS ratio'.padStart(10),
    '  per-round time ratio min/med/max',
    '  CPU ratio min/med/max',
    '  RSS ratio min/med/max',
  )
  for (const { name, rustic, restic, rounds = [] } of rows) {
    const perRound = (f) => (rounds.length ? spread(rounds.map((r) => f(r.rustic) / f(r.restic))) : '-')
    console.log(
      name.padEnd(14),
      rustic.seconds.toFixed(2).padStart(12),
      restic.seconds.toFixed(2).padStart(10),
      (rustic.seconds / restic.seconds).toFixed(2).padStart(11),
      (rustic.rssKiB / 1024).toFixed(0).padStart(11),
      (restic.rssKiB / 1024).toFixed(0).padStart(11),
      (rustic.rssKiB / restic.rssKiB).toFixed(2).padStart(10),
      ' ',
      perRound((x) => x.seconds).padStart(33),
      ' ',
      perRound((x) => x.user + x.sys).padStart(22),
      ' ',
      perRound((x) => x.rssKiB).padStart(22),
    )
  }
}

/**
 * Prints, for each row of `compare`, both tools' best time and highest peak RSS per GiB of data and per
 * 1,000 files (`size`: the data set's bytes and file count), so runs at different scales show how each
 * tool grows.
 */
export function reportPerUnit(rows, { bytes, files }) {
  const gib = bytes / 2 ** 30
  const kfiles = files / 1000
  console.log(`per GiB (${gib.toFixed(2)} GiB) and per 1,000 files (${files} files): rustic-ts / restic`)
  for (const { name, rustic, restic } of rows) {
    const per = (x, unit) => `${(x.seconds / unit).toFixed(3)} s ${(x.rssKiB / 1024 / unit).toFixed(1)} MiB`
    console.log(`  ${name.padEnd(12)} per GiB ${per(rustic, gib)} / ${per(restic, gib)};  per 1,000 files ${per(rustic, kfiles)} / ${per(restic, kfiles)}`)
  }
}

/** Bytes and file count of the regular files below `dir` (GNU du and find). */
export async function dataSize(dir) {
  const du = await sh('du', ['-sb', dir])
  const find = await sh('find', [dir, '-type', 'f', '-printf', '.'])
  return { bytes: Number(du.stdout.split('\t')[0]), files: find.stdout.length }
}

/** The value after `--name` on the command line, or `def`. */
export function flag(name, def) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}
