// Freeing space: after forget, the data only removed snapshots used is still stored until a prune.
// planPrune works out what becomes of every pack (keep, repack, mark for deletion, delete), changing
// nothing; prune carries the plan out. By default deletion has two phases, as rustic's: unneeded packs are
// marked first and removed by a later prune once they have been marked for `keepDelete` (23h), so that a
// backup running at the same time on another client never loses data it is about to reference.
//
// Run: node examples/prune.mjs   (after npm run build)
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend, Repository } from 'rustic-ts'

const MiB = 1024 * 1024
const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-prune-'))
try {
  const data = join(dir, 'data')
  await mkdir(data)
  const backends = { repository: new LocalBackend(join(dir, 'repo')) }
  const credentials = { password: 'example password' }
  await Repository.init({}, backends, credentials)
  const repo = await Repository.open({}, backends, credentials)
  const indexed = await repo.toIndexed()

  // two backups of a file whose content changed completely in between
  await writeFile(join(data, 'video.bin'), randomBytes(4 * MiB))
  await indexed.backup([data])
  await writeFile(join(data, 'video.bin'), randomBytes(4 * MiB))
  await indexed.backup([data])

  // keep only the newest snapshot: the first file's data is now unneeded, but still stored
  const { removed } = await repo.forget(await repo.planForget({ keepLast: 1 }))
  console.log(`forgot ${removed.length} snapshot`)

  const show = (what, plan) => {
    const a = plan.stats.actions
    console.log(
      `${what}: keep ${a.keep.packs} packs, mark ${a.markDelete.packs} for deletion (${(a.markDelete.bytes / MiB).toFixed(1)} MiB), ` +
        `delete ${a.delete.packs}, repack ${a.repack.packs}`,
    )
  }
  const plan = await repo.planPrune() // changes nothing
  show('plan', plan)
  const first = await repo.prune(plan)
  console.log(`prune: marked ${first.packsMarked} packs, removed ${first.packsRemoved}`)

  // a day later (here: a prune told that it runs 24 hours from now) the marked packs are old enough
  const later = await repo.planPrune({ now: new Date(Date.now() + 24 * 3600 * 1000) })
  show('plan a day later', later)
  const second = await repo.prune(later)
  console.log(`prune a day later: removed ${second.packsRemoved} packs (${(second.bytesRemoved / MiB).toFixed(1)} MiB)`)

  const { summary } = await repo.check({ readData: true })
  console.log(`check --read-data: ${summary.errors} errors`)
  await repo.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
