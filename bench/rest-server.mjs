// REST server benchmark: `restic backup` of the standard data set to `rustic-ts serve --path DIR` and to
// `rclone serve restic DIR` (both on a local directory of the same kind), one fresh repository per run.
// Prints restic's backup time against each server, the ratio (rustic-ts / rclone; target <= 1.0) and each
// server's peak RSS (VmHWM of the server process).
// Usage: npm run build && node bench/rest-server.mjs [--scale 1] [--runs 1] [--keep]
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CLI, MKDATA, sh } from './lib.mjs'

const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' }, runs: { type: 'string', default: '1' }, keep: { type: 'boolean' } } })
const runs = Number(values.runs)
const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-bench-rest-'))
const data = join(dir, 'data')
console.log(`data set: mkdata.py --scale ${values.scale} in ${data}`)
await sh('python3', [MKDATA, data, '--scale', values.scale])
const du = await sh('du', ['-sb', data])
console.log(`data size: ${(Number(du.stdout.split('\t')[0]) / 2 ** 20).toFixed(0)} MiB; runs per server: ${runs}`)

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** Starts a server process and waits until it answers HTTP on the port. */
async function startServer(cmd, args, port) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise((r) => child.on('close', (code) => r(code)))
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited: ${stderr}`)
    try {
      await fetch(`http://127.0.0.1:${port}/config`, { method: 'HEAD' })
      return { child, exited, stderr: () => stderr }
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  child.kill('SIGKILL')
  throw new Error(`${cmd} did not start: ${stderr}`)
}

/** Peak resident set size of a running process in KiB (VmHWM). */
function peakRssKiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : NaN
}

const servers = {
  'rustic-ts': (repo, port) => [CLI, ['serve', '--path', repo, '--no-auth', '--listen', `127.0.0.1:${port}`]],
  rclone: (repo, port) => ['rclone', ['serve', 'restic', '--config', '/dev/null', '--addr', `127.0.0.1:${port}`, repo]],
}

/** One backup through one server into a fresh repository: restic's time and the server's peak RSS. */
async function backupVia(name, i) {
  const repoDir = join(dir, `${name}-${i}`)
  const port = await freePort()
  const [cmd, args] = servers[name](repoDir, port)
  const server = await startServer(cmd, args, port)
  try {
    const repo = `rest:http://127.0.0.1:${port}/`
    await sh('restic', ['-r', repo, '--no-cache', '--quiet', 'init'])
    const r = await sh('restic', ['-r', repo, '--no-cache', '--quiet', 'backup', data])
    return { seconds: r.seconds, resticRssKiB: r.rssKiB, serverRssKiB: peakRssKiB(server.child.pid) }
  } finally {
    server.child.kill('SIGTERM')
    await server.exited
  }
}

const best = {}
for (let i = 0; i < runs; i++) {
  for (const name of ['rclone', 'rustic-ts']) {
    const r = await backupVia(name, i)
    const b = best[name]
    best[name] = {
      seconds: Math.min(b?.seconds ?? Infinity, r.seconds),
      serverRssKiB: Math.max(b?.serverRssKiB ?? 0, r.serverRssKiB),
      resticRssKiB: Math.max(b?.resticRssKiB ?? 0, r.resticRssKiB),
    }
  }
}

console.log('\nrestic backup to a REST server on a local directory (best time, highest peak RSS)')
console.log('server'.padEnd(12), 'backup s'.padStart(10), 'server MiB'.padStart(11), 'restic MiB'.padStart(11))
for (const [name, r] of Object.entries(best)) {
  console.log(name.padEnd(12), r.seconds.toFixed(2).padStart(10), (r.serverRssKiB / 1024).toFixed(0).padStart(11), (r.resticRssKiB / 1024).toFixed(0).padStart(11))
}
console.log(`time ratio rustic-ts / rclone: ${(best['rustic-ts'].seconds / best.rclone.seconds).toFixed(2)} (target <= 1.0)`)
console.log(`server RSS ratio rustic-ts / rclone: ${(best['rustic-ts'].serverRssKiB / best.rclone.serverRssKiB).toFixed(2)}`)
if (!values.keep) await rm(dir, { recursive: true, force: true })
else console.log(`kept ${dir}`)
