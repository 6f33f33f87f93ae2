// The main job, end to end on the local backend: create a repository in a temporary directory,
// open it again with its password, and read it back (config, keys, snapshots).
// Run with `npm run demo` after `npm ci && npm run build`.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend, Repository, shortId } from 'rustic-ts'

const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-demo-'))
const password = 'demo password'
try {
  const backends = { repository: new LocalBackend(join(dir, 'repo')) }
  const created = await Repository.init(backends, { password })
  console.log(`created repository ${shortId(created.id)} (version ${created.config.version}) at ${created.location()}`)

  const repo = await Repository.open({}, backends, { password })
  const keys = await repo.listKeys()
  console.log(`opened it again: ${keys.length} key, chunker polynomial ${repo.config.chunkerPolynomial.toString(16)}`)

  const indexed = await repo.toIndexed()
  const snapshots = await repo.getSnapshots()
  console.log(`index: ${indexed.index.packs().size} packs; snapshots: ${snapshots.length}`)

  const wrong = await Repository.open({}, backends, { password: 'not it' }).catch((e) => e)
  console.log(`a wrong password is refused: [${wrong.code}] ${wrong.message}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
