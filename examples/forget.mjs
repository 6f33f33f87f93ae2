// Retention: which snapshots to keep, as restic's `forget --keep-daily 7 --keep-weekly 4 ...`.
// planForget works out the plan (each snapshot with its verdict and the reasons), without changing
// anything; forget carries it out. The data of removed snapshots stays until a prune.
//
// Run: node examples/forget.mjs   (after npm run build)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend, Repository, shortId } from 'rustic-ts'

const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-forget-'))
try {
  const data = join(dir, 'data')
  await mkdir(data)
  const backends = { repository: new LocalBackend(join(dir, 'repo')) }
  const credentials = { password: 'example password' }
  await Repository.init({}, backends, credentials)
  const repo = await Repository.open({}, backends, credentials)
  const indexed = await repo.toIndexed()

  // six weeks of nightly snapshots: one backup, saved again with the time of each night (as restic's
  // --time sets a snapshot's time; a real schedule would run indexed.backup every night)
  await writeFile(join(data, 'journal.txt'), 'a journal\n')
  const { snapshot } = await indexed.backup([data], { host: 'laptop', time: new Date(Date.UTC(2024, 0, 1, 2)) })
  for (let day = 1; day < 42; day++) {
    await repo.saveSnapshot({ ...snapshot, id: undefined, time: new Date(Date.UTC(2024, 0, 1 + day, 2)).toISOString() })
  }

  const plan = await repo.planForget({ keepDaily: 7, keepWeekly: 4, keepMonthly: 2, groupBy: 'host,paths' })
  for (const group of plan.groups) {
    for (const s of group.snapshots.filter((x) => x.keep)) {
      console.log(`keep   ${shortId(s.snapshot.id)} ${s.snapshot.time.slice(0, 10)}  ${s.reasons.join(', ')}`)
    }
  }
  console.log(`remove ${plan.remove.length} of ${plan.groups.reduce((n, g) => n + g.snapshots.length, 0)} snapshots`)
  const { removed } = await repo.forget(plan)
  console.log(`forgot ${removed.length} snapshots; ${(await repo.getSnapshots()).length} left`)
  await repo.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
