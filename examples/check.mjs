// Checking a repository, as restic's `check` and `check --read-data`: the result is a list of
// findings (level error / warning / info, a kind, a message and the file, blob or snapshot concerned),
// never an exception for damage. Here a healthy repository passes, then one byte of a data pack is
// changed on disk: the structure check still passes (the index and trees are intact), reading the data
// finds the damaged pack.
//
// Run: node examples/check.mjs   (after npm run build)
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasErrors, LocalBackend, Repository } from 'rustic-ts'

const report = (what, result) => {
  const { errors, warnings, infos } = result.summary
  console.log(`${what}: ${hasErrors(result) ? 'ERRORS' : 'ok'} (${errors} errors, ${warnings} warnings, ${infos} notes; ${result.packsRead} packs read)`)
  for (const f of result.findings) console.log(`  ${f.level}: ${f.kind}: ${f.message}`)
}

const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-check-'))
try {
  const data = join(dir, 'data')
  await mkdir(data)
  await writeFile(join(data, 'random.bin'), randomBytes(1 << 20))
  const backends = { repository: new LocalBackend(join(dir, 'repo')) }
  const credentials = { password: 'example password' }
  await Repository.init({}, backends, credentials)
  const repo = await Repository.open({ noCache: true }, backends, credentials)
  await (await repo.toIndexed()).backup([data])

  report('check', await repo.check())
  report('check --read-data', await repo.check({ readData: true }))

  // damage: flip one byte in the middle of the largest pack (the file's data)
  const packs = []
  for (const e of await readdir(join(dir, 'repo', 'data'), { recursive: true, withFileTypes: true })) {
    if (e.isFile()) packs.push(join(e.parentPath ?? e.path, e.name))
  }
  const sizes = await Promise.all(packs.map(async (p) => (await stat(p)).size))
  const victim = packs[sizes.indexOf(Math.max(...sizes))]
  const fh = await open(victim, 'r+')
  const at = Math.floor(Math.max(...sizes) / 2)
  const byte = Buffer.alloc(1)
  await fh.read(byte, 0, 1, at)
  await fh.write(Buffer.from([byte[0] ^ 0xff]), 0, 1, at)
  await fh.close()

  report('check after damage', await repo.check())
  const damaged = await repo.check({ readData: true })
  report('check --read-data after damage', damaged)
  await repo.close()
  if (!hasErrors(damaged)) process.exitCode = 1
} finally {
  await rm(dir, { recursive: true, force: true })
}
