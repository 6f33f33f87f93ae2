// The main job, end to end on the local backend: create a repository in a temporary directory,
// back up this examples/ folder, list the snapshots, restore the snapshot and compare every file
// with the original; then back up again (nothing changed: nothing is read or stored) and show that a
// wrong password is refused. Run with `npm run demo` after `npm ci && npm run build`.
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LocalBackend, Repository, shortId } from 'rustic-ts'

const source = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '')
const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-demo-'))
const password = 'demo password'

async function hashes(root) {
  const out = new Map()
  const walk = async (d) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) out.set(relative(root, p), createHash('sha256').update(await readFile(p)).digest('hex'))
    }
  }
  await walk(root)
  return out
}

try {
  const backends = { repository: new LocalBackend(join(dir, 'repo')) }
  const created = await Repository.init({}, backends, { password })
  console.log(`created repository ${shortId(created.id)} (version ${created.config.version}) at ${created.location()}`)

  const repo = await Repository.open({}, backends, { password })
  let indexed = await repo.toIndexed()
  const first = await indexed.backup([source], { tags: ['demo'], label: 'examples' })
  const s = first.snapshot.summary
  console.log(`backup ${shortId(first.snapshot.id)}: ${s.filesNew} files, ${s.dirsNew} dirs, ${s.dataAdded} bytes added (${s.dataAddedPacked} stored)`)

  for (const snap of await repo.getSnapshots()) {
    console.log(`snapshot ${shortId(snap.id)}  ${snap.time}  host ${snap.hostname}  tags ${snap.tags.join(',')}  paths ${snap.paths.join(' ')}`)
  }

  indexed = await repo.toIndexed()
  const { node } = await indexed.resolveSnapshotPath(`latest:${source}`)
  const target = join(dir, 'restored')
  const plan = await indexed.planRestore(node, target)
  const stats = await indexed.restore(plan)
  console.log(`restored ${stats.filesWritten} files (${stats.bytesWritten} bytes) to ${target}`)
  const [want, got] = [await hashes(source), await hashes(target)]
  const same = want.size === got.size && [...want].every(([p, h]) => got.get(p) === h)
  console.log(same ? `all ${want.size} files are identical to the source` : 'MISMATCH between source and restore')

  const second = await indexed.backup([source], { tags: ['demo'], label: 'examples' })
  const t = second.snapshot.summary
  console.log(`second backup ${shortId(second.snapshot.id)} (parent ${shortId(second.snapshot.parent)}): ${t.filesUnmodified} files unmodified, ${t.dataAdded} bytes added`)

  const wrong = await Repository.open({}, backends, { password: 'not it' }).catch((e) => e)
  console.log(`a wrong password is refused: [${wrong.code}] ${wrong.message}`)
  if (!same) process.exitCode = 1
} finally {
  await rm(dir, { recursive: true, force: true })
}
