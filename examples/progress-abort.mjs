// Progress reporting and cancelling: every command takes a `control` object last,
// { signal?, progress?, onWarning? }. This program backs up a generated folder with a progress
// reporter printing a line per step, then starts a second backup with an AbortSignal that fires after
// a few milliseconds: it fails with code `Aborted`, writes no snapshot, and a third backup reuses the
// data the aborted one had uploaded.
//
// Run: node examples/progress-abort.mjs   (after npm run build)
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isRusticError, LocalBackend, Repository, shortId } from 'rustic-ts'

/** A ProgressFactory: called with a kind (`spinner`, `counter`, `bytes`) and a title for each piece of work. */
function lineProgress(kind, title) {
  let done = 0
  let total
  let shown = -1
  const show = () => {
    // a total is only known after setLength: until then, say how much is done
    const pct = total ? Math.floor((done * 100) / total) : undefined
    if (pct !== undefined && pct - shown < 25 && done < total) return // a line every 25%
    shown = pct ?? shown
    const amount = kind === 'bytes' ? `${(done / 2 ** 20).toFixed(1)} MiB` : String(done)
    console.log(`  ${title}: ${amount}${total !== undefined ? ` of ${kind === 'bytes' ? `${(total / 2 ** 20).toFixed(1)} MiB` : total} (${pct}%)` : ''}`)
  }
  return {
    setLength: (n) => void (total = n),
    setTitle: (t) => void (title = t),
    inc: (n) => {
      done += n
      if (kind === 'bytes') show()
    },
    finish: () => {
      if (shown !== 100) show()
    },
  }
}

const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-progress-'))
try {
  const data = join(dir, 'data')
  await mkdir(data)
  for (let i = 0; i < 4; i++) await writeFile(join(data, `file-${i}.bin`), randomBytes(4 << 20))

  const backends = { repository: new LocalBackend(join(dir, 'repo')) }
  const credentials = { password: 'example password' }
  await Repository.init({}, backends, credentials)
  const repo = await Repository.open({}, backends, credentials)
  const indexed = await repo.toIndexed()

  console.log('backup with progress:')
  const first = await indexed.backup([data], { tags: ['first'] }, { progress: lineProgress, onWarning: (m) => console.log(`  warning: ${m}`) })
  console.log(`snapshot ${shortId(first.snapshot.id)} saved`)

  // new data, and a backup that is cancelled after 50 ms
  for (let i = 0; i < 4; i++) await writeFile(join(data, `more-${i}.bin`), randomBytes(4 << 20))
  try {
    await indexed.backup([data], { tags: ['cancelled'] }, { signal: AbortSignal.timeout(50) })
    console.log('the second backup finished before the timeout')
  } catch (e) {
    if (!isRusticError(e, 'Aborted')) throw e
    console.log(`second backup: ${e.code} (${e.message}); snapshots tagged cancelled: ${(await repo.getSnapshots({ tags: [['cancelled']] })).length}`)
  }

  // the next backup picks up what the cancelled one uploaded
  const third = await indexed.backup([data], { tags: ['third'] }, { onWarning: (m) => console.log(`  warning: ${m}`) })
  console.log(`snapshot ${shortId(third.snapshot.id)} saved: ${third.snapshot.summary.filesNew} new files, ${(third.snapshot.summary.dataAdded / 2 ** 20).toFixed(1)} MiB added`)
  await repo.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
