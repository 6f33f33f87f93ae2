// A hot/cold repository with a warm-up command. The cold repository (cheap archive storage) holds
// everything; the hot one (a fast disk) holds everything but data packs, so listing snapshots, browsing
// trees and planning a restore read only from hot. Before reading data packs from cold, the warm-up
// command is run for exactly the packs about to be read (for storage such as S3 Glacier that must be
// asked to make a file readable first). Here the command is `touch WARMED/%id`, so we can see which
// packs were warmed up.
//
// Run: node examples/hot-cold.mjs   (after npm run build)
// The CLI: rustic-ts -r COLD --repo-hot HOT restore latest --target DIR   (warm-up: in a profile or the library)
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend, Repository, shortId } from 'rustic-ts'

/** Files under `dir`, recursively. */
async function countFiles(dir) {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) if (e.isFile()) n++
  return n
}

const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-hotcold-'))
try {
  const data = join(dir, 'data')
  await mkdir(join(data, 'photos'), { recursive: true })
  for (let i = 0; i < 20; i++) await writeFile(join(data, 'photos', `img-${i}.raw`), `photo ${i} `.repeat(20_000))
  await writeFile(join(data, 'notes.txt'), 'hot and cold\n')
  const warmed = join(dir, 'warmed')
  await mkdir(warmed)

  const backends = () => ({ repository: new LocalBackend(join(dir, 'cold')), repoHot: new LocalBackend(join(dir, 'hot')) })
  const credentials = { password: 'example password' }
  await (await Repository.init({}, backends(), credentials)).close()
  const writer = await Repository.open({}, backends(), credentials)
  const { snapshot } = await (await writer.toIndexed()).backup([data])
  await writer.close()
  console.log(`snapshot ${shortId(snapshot.id)}: data packs in cold ${await countFiles(join(dir, 'cold', 'data'))}, in hot ${await countFiles(join(dir, 'hot', 'data'))} (tree packs only)`)

  const repo = await Repository.open({ warmUpCommand: `touch ${warmed}/%id`, warmUpBatch: 8 }, backends(), credentials)
  const indexed = await repo.toIndexed()
  console.log(`snapshots listed from hot: ${(await repo.getSnapshots()).length}; packs warmed up so far: ${(await readdir(warmed)).length}`)
  const { node } = await indexed.resolveSnapshotPath(`${snapshot.id}:${data}`)
  const plan = await indexed.planRestore(node, join(dir, 'restored'))
  const stats = await indexed.restore(plan)
  console.log(`restored ${stats.filesWritten} files reading ${plan.stats.packs} packs; packs warmed up: ${(await readdir(warmed)).length}`)
  await repo.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
