/**
 * The interop matrix, readable in one place:
 *
 *   {written by restic, written by rustic-ts} x {repository v1, v2} x {local, REST, rclone, OpenDAL}
 *
 * Each of the four repositories holds two snapshots of the same small data set (the second after some
 * changes). restic answers `snapshots`, `ls`, `find`, `diff`, `dump` and `restore` once per repository
 * (through its local path: its answer does not depend on how the bytes travel); the rustic-ts CLI then
 * answers the same questions through each backend, and the answers must be restic's.
 *
 * Where the answers differ on purpose, the comparison says why (search for "on purpose").
 * Fixtures are built once; one REST server (`rclone serve restic`) serves every repository.
 */
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRcloneRestServer, type RcloneRestServer } from '../../../backend-rest/test/rcloneServer.js'
import { resticInit, rusticInit } from '../helpers/cheapKey.js'
import { makeDataset } from '../helpers/dataset.js'
import { restic, rusticOk, tempDir } from '../helpers/restic.js'
import { treeFacts } from '../helpers/treeCompare.js'

type Writer = 'restic' | 'rustic-ts'
const WRITERS: Writer[] = ['restic', 'rustic-ts']
const VERSIONS = [1, 2] as const

/** How the rustic-ts CLI reaches a repository directory (`name` below the served root). */
interface Backend {
  name: string
  args: (dir: string, name: string) => string[]
}
const BACKENDS: Backend[] = [
  { name: 'local', args: (dir) => ['-r', dir] },
  { name: 'REST', args: (_dir, name) => ['-r', `rest:${rest.url}${name}/`] },
  { name: 'rclone', args: (dir) => ['-r', `rclone:${dir}`, '--opendal', 'rclone-args=--config /dev/null'] },
  { name: 'OpenDAL', args: (dir) => ['-r', 'opendal:fs', '--opendal', `root=${dir}`] },
]

/** restic's answers for one repository. */
interface Answers {
  snapshots: Array<Record<string, unknown>>
  ls: string[]
  find: unknown
  diff: string
  tar: Buffer
  restored: Awaited<ReturnType<typeof treeFacts>>
}

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let rest: RcloneRestServer
const answers = new Map<string, Answers>()

const repoName = (w: Writer, v: number): string => `${w}-v${v}`
const lines = (b: Buffer): string[] => b.toString('utf8').split('\n').filter((l) => l !== '')

async function backup(w: Writer, dir: string): Promise<void> {
  if (w === 'restic') await restic(dir, ['backup', '--host', 'matrix', src])
  else await rusticOk(['-r', dir, '--no-cache', 'backup', '--host', 'matrix', src])
}

async function resticAnswers(dir: string): Promise<Answers> {
  const snapshots = JSON.parse((await restic(dir, ['snapshots', '--json'])).toString()) as Array<Record<string, unknown>>
  const [s1, s2] = snapshots.map((s) => s['id'] as string)
  const target = join(tmp.path, 'restored', `restic-${dir.split('/').pop()}`)
  await restic(dir, ['restore', s2!, '--target', target])
  return {
    snapshots,
    ls: lines(await restic(dir, ['ls', '--json', s2!])),
    find: JSON.parse((await restic(dir, ['find', '--json', '*.txt'])).toString()),
    diff: (await restic(dir, ['diff', '--json', '--metadata', s1!, s2!])).toString(),
    tar: await restic(dir, ['dump', s2!, join(src, 'a')]),
    restored: await treeFacts(target),
  }
}

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-matrix-')
  src = join(tmp.path, 'src')
  await makeDataset(src, { bigFileMiB: 1 })
  const repos = join(tmp.path, 'repos')
  await mkdir(repos)
  for (const w of WRITERS) {
    for (const v of VERSIONS) {
      const dir = join(repos, repoName(w, v))
      if (w === 'restic') await resticInit(dir, ['--repository-version', String(v)])
      else await rusticInit(dir, ['--repository-version', String(v)])
      await backup(w, dir)
    }
  }
  // changes for diff: a new file, a changed one, a removed one, a new symlink
  await writeFile(join(src, 'a', 'new.txt'), 'new\n')
  await appendFile(join(src, 'a', 'hello.txt'), 'more\n')
  await rm(join(src, 'a', 'b', 'c', 'deep.txt'))
  await symlink('../log.txt', join(src, 'a', 'b', 'log-link'))
  for (const w of WRITERS) for (const v of VERSIONS) await backup(w, join(repos, repoName(w, v)))
  for (const w of WRITERS) for (const v of VERSIONS) answers.set(repoName(w, v), await resticAnswers(join(repos, repoName(w, v))))
  rest = await startRcloneRestServer(repos)
}, 300_000)

afterAll(async () => {
  await rest?.stop()
  await tmp?.remove()
})

describe.each(WRITERS)('written by %s', (writer) => {
  describe.each(VERSIONS)('repository v%i', (version) => {
    it.each(BACKENDS.map((b) => [b.name, b] as const))('read through %s: snapshots, ls, find, diff, dump and restore answer as restic', async (_name, backend) => {
      const name = repoName(writer, version)
      const want = answers.get(name)!
      const dir = join(tmp.path, 'repos', name)
      const cli = (args: string[]): Promise<Buffer> => rusticOk([...backend.args(dir, name), '--no-cache', ...args])

      // snapshots: restic's fields. rustic-ts adds keys restic 0.14 does not know (program_version,
      // summary, ... in snapshots it wrote): on purpose, extra keys for rustic-only data.
      const snapshots = JSON.parse((await cli(['snapshots', '--json'])).toString()) as Array<Record<string, unknown>>
      const pick = (s: Record<string, unknown>): unknown[] =>
        ['id', 'short_id', 'time', 'tree', 'paths', 'hostname', 'username', 'uid', 'gid', 'parent', 'tags'].map((k) => s[k])
      expect(snapshots.map(pick)).toEqual(want.snapshots.map(pick))
      expect(snapshots).toHaveLength(2)
      const [s1, s2] = snapshots.map((s) => s['id'] as string)

      // ls --json: the snapshot line carries the snapshot's JSON (with rustic-ts's extra keys, on purpose),
      // every node line is restic's
      const ls = lines(await cli(['ls', '--json', s2!]))
      expect(ls.slice(1)).toEqual(want.ls.slice(1))
      expect(JSON.parse(ls[0]!).id).toBe(JSON.parse(want.ls[0]!).id)

      // find --json: restic's groups, newest snapshot first; restic 0.14 lists them in the order it reads
      // the snapshot files (by id): the order differs on purpose, the groups are restic's
      const found = JSON.parse((await cli(['find', '--json', '*.txt'])).toString()) as Array<{ snapshot: string }>
      expect(found.map((g) => g.snapshot)).toEqual([s2, s1])
      const bySnapshot = (groups: Array<{ snapshot: string }>): Map<string, unknown> => new Map(groups.map((g) => [g.snapshot, g]))
      expect(bySnapshot(found)).toEqual(bySnapshot(want.find as Array<{ snapshot: string }>))
      expect((await cli(['diff', '--json', '--metadata', s1!, s2!])).toString()).toBe(want.diff)
      // dump of a directory: the same tar bytes
      expect((await cli(['dump', s2!, join(src, 'a')])).equals(want.tar)).toBe(true)

      const target = join(tmp.path, 'restored', `${name}-${backend.name}`)
      await cli(['restore', s2!, '--target', target])
      const got = await treeFacts(target)
      expect([...got.keys()]).toEqual([...want.restored.keys()])
      for (const [path, facts] of want.restored) expect(got.get(path), path).toEqual(facts)
      await rm(target, { recursive: true, force: true })
    })
  })
})
