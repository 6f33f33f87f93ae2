/**
 * Times restic can store that do not fit the usual range (before 1970, Go's zero time, past 2242, exact
 * halves of a second) and names a plain tar header cannot hold: restore gives the same times as
 * `restic restore` (to the nanosecond where `timePrecision()` says so) and `dump` gives the same bytes as
 * `restic dump`, which GNU tar and Python's tarfile read without a complaint.
 */
import { execFile } from 'node:child_process'
import { lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  dump,
  GO_ZERO_TIME,
  hashId,
  parseGoTime,
  serializeIndex,
  serializePackHeader,
  serializeTree,
  timePrecision,
  type IndexedRepository,
  type Node,
} from '@rustic-ts/core/internal'
import { openIndexed, password, restic, resticRepoWith, restoreTo, tempDir } from '../commands/helpers.js'

const run = promisify(execFile)
const LONG_DIR = 'd'.repeat(60)
const LONG_FILE = `${'long-ascii-name-'.repeat(5)}.txt` // 85 bytes: with its directory over 100, splittable
const LONG_UNICODE = `${'ü'.repeat(60)}.txt` // 124 bytes, not ASCII

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let indexed: IndexedRepository
let crafted: string // id of the snapshot with zero times and a node without mode

/** `touch` with nanoseconds in UTC (`-h`: a symlink itself). */
async function touch(path: string, which: '-m' | '-a', when: string): Promise<void> {
  await run('touch', ['-h', which, '-d', when, path], { env: { ...process.env, TZ: 'UTC' } })
}

async function makeData(root: string): Promise<void> {
  await mkdir(join(root, 'zero'), { recursive: true })
  await mkdir(join(root, LONG_DIR))
  const files: Array<[string, string, string]> = [
    ['old.txt', '1960-05-01 12:00:00.123456789', '1955-01-01 00:00:00.5'],
    ['half-up.txt', '2020-01-01 00:00:00.5', '2020-01-01 00:00:00.499999999'],
    ['half-down.txt', '2020-01-01 00:00:00.499999999', '2020-01-01 00:00:01'],
    ['old-half.txt', '1969-12-31 23:59:59.5', '1969-12-31 23:59:58.5'],
    ['future.txt', '2400-02-29 12:00:00.25', '2400-01-01 00:00:00'],
    [join(LONG_DIR, LONG_FILE), '2001-01-01 00:00:00', '2001-01-01 00:00:00'],
    [LONG_UNICODE, '1901-12-14 00:00:00.000000001', '1901-12-14 00:00:00'],
    [join('zero', 'inside.txt'), '1970-01-01 00:00:00', '1970-01-01 00:00:00'],
  ]
  for (const [name, mtime, atime] of files) {
    await writeFile(join(root, name), `content of ${name}\n`)
    await touch(join(root, name), '-m', mtime)
    await touch(join(root, name), '-a', atime)
  }
  await symlink('ziel-ü-日本', join(root, 'link-unicode'))
  await symlink('t'.repeat(120), join(root, 'link-long'))
  await touch(join(root, 'link-unicode'), '-m', '1965-06-01 00:00:00.999999999')
  for (const d of ['zero', LONG_DIR, '.']) await touch(join(root, d), '-m', '1950-01-01 00:00:00.75')
}

/** Stores a snapshot whose root tree holds `nodes` (their blobs already in the repository). */
async function saveSnapshotOf(nodes: Node[]): Promise<string> {
  const repoOpen = indexed.repo
  const tree = serializeTree(nodes)
  const treeId = hashId(tree)
  const sealed = repoOpen.dbe.sealBlob(tree)
  const entry = { type: 'tree' as const, id: treeId, offset: 0, length: sealed.sealed.length, uncompressedLength: sealed.uncompressedLength }
  const header = repoOpen.key.encrypt(serializePackHeader([entry]))
  const len = Buffer.alloc(4)
  len.writeUInt32LE(header.length)
  const pack = Buffer.concat([sealed.sealed, header, len])
  await repoOpen.backend.writeBytes('pack', hashId(pack), true, pack)
  await repoOpen.dbe.saveFile('index', serializeIndex({ packs: [{ id: hashId(pack), blobs: [entry] }] }))
  return repoOpen.saveSnapshot({ time: '2026-01-01T00:00:00Z', tree: treeId, paths: ['/crafted'], hostname: 'h', username: 'u', uid: 0, gid: 0, excludes: [], tags: [] })
}

beforeAll(async () => {
  tmp = await tempDir('rustic-times-')
  await makeData(join(tmp.path, 'data'))
  repo = join(tmp.path, 'repo')
  await resticRepoWith(repo, tmp.path, 'data', 2, { cheapKey: true })
  indexed = await openIndexed(repo)
  // Go's zero time (as rustic writes for unknown times) and a node without mode (rustic on Windows):
  // no file system here holds them, so a snapshot is written by hand from restic's nodes.
  const { node: data } = await indexed.resolveSnapshotPath('latest:/data')
  const nodes = await indexed.getTree(data.subtree!)
  const zero = nodes.find((n) => n.name === 'zero')!
  const old = nodes.find((n) => n.name === 'old.txt')!
  const zeroDir: Node = { ...zero, mtime: GO_ZERO_TIME, atime: GO_ZERO_TIME }
  const zeroFile: Node = { ...old, name: 'zero-file.txt', mtime: GO_ZERO_TIME, atime: GO_ZERO_TIME, ctime: GO_ZERO_TIME }
  const noMode: Node = { ...old, name: 'no-mode.txt' }
  delete noMode.mode
  crafted = await saveSnapshotOf([noMode, zeroDir, zeroFile])
  indexed = await openIndexed(repo) // with the new index file
}, 120_000)
afterAll(async () => tmp?.remove())

/** atime and mtime (ns) of every entry below `root`, by relative path. */
async function times(root: string): Promise<Map<string, [bigint, bigint]>> {
  const out = new Map<string, [bigint, bigint]>()
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const st = await lstat(join(dir, name), { bigint: true })
      out.set(`${rel}${name}`, [st.atimeNs, st.mtimeNs])
      if (st.isDirectory()) await walk(join(dir, name), `${rel}${name}/`)
    }
  }
  out.set('.', [(await lstat(root, { bigint: true })).atimeNs, (await lstat(root, { bigint: true })).mtimeNs])
  await walk(root, '')
  return out
}

async function ourDump(spec: string): Promise<Buffer> {
  const { node, path } = await indexed.resolveSnapshotPath(spec)
  const parts: Uint8Array[] = []
  for await (const c of dump(indexed, node, path)) parts.push(c)
  return Buffer.concat(parts)
}

async function readersAccept(tarPath: string): Promise<string> {
  const tar = await run('tar', ['--utc', '-tvf', tarPath])
  expect(tar.stderr).toBe('')
  const py = await run('python3', [
    '-c',
    'import sys, tarfile\nwith tarfile.open(sys.argv[1], errorlevel=2) as t:\n  for m in t: print(m.name, m.mtime, m.linkname)',
    tarPath,
  ])
  expect(py.stderr).toBe('')
  return py.stdout
}

describe('times restic can store', () => {
  it('restore sets them as restic restore does, to the nanosecond here', async () => {
    expect(timePrecision()).toBe('nanosecond')
    const theirs = join(tmp.path, 'restic-restore')
    await restic(repo, ['restore', 'latest', '--target', theirs])
    const ours = join(tmp.path, 'our-restore')
    const { warnings } = await restoreTo(indexed, 'latest', ours)
    expect(warnings).toEqual([])
    const want = await times(join(theirs, 'data'))
    const got = await times(join(ours, 'data'))
    expect([...got.keys()]).toEqual([...want.keys()])
    // the symlink's atime is read when restic lists the target: compare mtimes there
    for (const [k, [a, m]] of want) expect([k, k === 'link-unicode' || k === 'link-long' ? a : got.get(k)![0], got.get(k)![1]]).toEqual([k, a, m])
    expect(got.get('old.txt')![1]).toBe(parseGoTime('1960-05-01T12:00:00.123456789Z').unixNs)
  })

  it("Go's zero time restores as restic restores it; a node without mode keeps 0600 (restic: 0000) with one warning", async () => {
    const theirs = join(tmp.path, 'restic-crafted')
    await restic(repo, ['restore', crafted, '--target', theirs])
    const ours = join(tmp.path, 'our-crafted')
    const { warnings } = await restoreTo(indexed, crafted, ours)
    for (const name of ['zero', 'zero-file.txt']) {
      const a = await lstat(join(theirs, name), { bigint: true })
      const b = await lstat(join(ours, name), { bigint: true })
      expect([name, b.mtimeNs, b.atimeNs]).toEqual([name, a.mtimeNs, a.atimeNs])
    }
    // on purpose: a file without permission bits would be unreadable for its owner
    expect((await lstat(join(theirs, 'no-mode.txt'))).mode & 0o7777).toBe(0)
    expect((await lstat(join(ours, 'no-mode.txt'))).mode & 0o7777).toBe(0o600)
    expect(warnings.filter((w) => w.includes('no mode'))).toHaveLength(1)
  })

  it('dump writes the bytes restic dump writes (PAX where USTAR cannot hold a value), and tar readers accept them', async () => {
    const resticTar = join(tmp.path, 'restic.tar')
    await run('sh', ['-c', `restic -r "$0" --no-cache dump latest /data > "$1"`, repo, resticTar], {
      env: { ...process.env, RESTIC_PASSWORD: password },
    })
    const ourTar = join(tmp.path, 'ours.tar')
    const ours = await ourDump('latest:/data')
    await writeFile(ourTar, ours)
    const listing = await readersAccept(ourTar)
    // Python prints times from PAX records as floats
    expect(listing).toContain('data/old.txt -305121600.0 \n') // rounded to the second (.123 down), PAX
    expect(listing).toContain('data/half-up.txt 1577836801 \n') // a half rounds up
    expect(listing).toContain('data/half-down.txt 1577836800 \n')
    expect(listing).toContain('data/old-half.txt 0 \n') // -0.5 rounds up to 0
    expect(listing).toContain('data/future.txt 13574606400.0 \n') // past 2242: a PAX record
    expect(listing).toContain('data/link-unicode -144719999.0 ziel-ü-日本\n') // .999999999 up; the target as a PAX linkpath
    expect(listing).toContain(`data/${LONG_DIR}/${LONG_FILE} 978307200 \n`) // split into prefix and name
    expect(listing).toContain(`data/${LONG_UNICODE} -2147472000.0 \n`)
    expect(listing).toContain(`data/link-long `)
    const resticBytes = await import('node:fs/promises').then((fs) => fs.readFile(resticTar))
    expect(ours.equals(resticBytes)).toBe(true)
  })

  it("dump of Go's zero time gives 1970 as restic's does; a node without mode gets 0644 (restic: 0000)", async () => {
    const ours = await ourDump(crafted)
    const ourTar = join(tmp.path, 'crafted.tar')
    await writeFile(ourTar, ours)
    const listing = await readersAccept(ourTar)
    expect(listing).toContain('zero 0 \n')
    expect(listing).toContain('zero-file.txt 0 \n')
    const resticTar = join(tmp.path, 'restic-crafted.tar')
    await run('sh', ['-c', `restic -r "$0" --no-cache dump "$1" / > "$2"`, repo, crafted, resticTar], {
      env: { ...process.env, RESTIC_PASSWORD: password },
    })
    const theirs = await import('node:fs/promises').then((fs) => fs.readFile(resticTar))
    // the same bytes but the mode of no-mode.txt (and so its header checksum), on purpose
    expect(ours.length).toBe(theirs.length)
    const diff = [...ours.keys()].filter((i) => ours[i] !== theirs[i])
    expect(diff.length).toBeGreaterThan(0)
    // no-mode.txt is the first entry, its 1960 mtime in a PAX header (two blocks) before its own header
    expect(diff.every((i) => i >= 1024 && i < 1536)).toBe(true)
    expect(ours.subarray(1124, 1131).toString()).toBe('0000644')
    expect(theirs.subarray(1124, 1131).toString()).toBe('0000000')
  })
})
