/**
 * Issue 6 acceptance: backup of `mkdata.py --scale 0.02` then restore gives identical files on every
 * backend (through the built CLI, so `-r` and `--opendal KEY=VALUE` are exercised), and restic pointed at
 * the same server / remote / directory passes `check --read-data` on the result.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startS3rver, s3rverOptions, type TestServer } from '../../../backend-opendal/test/servers.js'
import { startRcloneRestServer, type RcloneRestServer } from '../../../backend-rest/test/rcloneServer.js'
import { mkdata } from '../helpers/mkdata.js'
import { restic, rusticOk, tempDir } from '../helpers/restic.js'
import { restoredTreeFacts as facts, type EntryFacts } from '../helpers/treeCompare.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let want: Map<string, EntryFacts>
let rest: RcloneRestServer
let s3: TestServer

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-backends-')
  src = join(tmp.path, 'src')
  await mkdata(src, ['--scale', '0.02'])
  want = await facts(src)
  ;[rest, s3] = await Promise.all([startRcloneRestServer(join(tmp.path, 'rest-server')), startS3rver(['backups'])])
}, 120_000)

afterAll(async () => {
  await Promise.allSettled([rest?.stop(), s3?.stop()])
  await tmp?.remove()
})

/**
 * Copies the objects s3rver (3.7) stores for `bucket/prefix` (files named `<key part>._S3rver_object`)
 * into `dest` under their keys: a directory restic can check, holding exactly the bytes the S3 server got.
 * (restic's own S3 client does not work with s3rver.)
 */
async function mirrorS3rverObjects(s3Dir: string, bucket: string, prefix: string, dest: string): Promise<void> {
  const root = join(s3Dir, bucket, prefix)
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.name.endsWith('._S3rver_object') && !e.name.startsWith('._S3rver_')) {
        const to = join(dest, relative(root, dirname(p)), e.name.slice(0, -'._S3rver_object'.length))
        await mkdir(dirname(to), { recursive: true })
        await copyFile(p, to)
      }
    }
  }
  await walk(root)
  for (const d of ['keys', 'snapshots', 'index', 'locks', 'data']) await mkdir(join(dest, d), { recursive: true })
}

/** `--opendal KEY=VALUE` flags for a map of options. */
const flags = (options: Record<string, string>): string[] => Object.entries(options).flatMap(([k, v]) => ['--opendal', `${k}=${v}`])

interface Case {
  name: string
  /** `-r` and backend flags. */
  repo: () => string[]
  /** What `location()` (printed by init) must be. */
  location: () => RegExp
  /** The repository string restic checks, if restic can reach it (after `prepare`). */
  resticRepo?: () => string
  /** Makes the repository visible to restic. */
  prepare?: () => Promise<void>
}

const cases: Case[] = [
  {
    name: 'local',
    repo: () => ['-r', join(tmp.path, 'local-repo')],
    location: () => /at local:\/.*local-repo/,
    resticRepo: () => join(tmp.path, 'local-repo'),
  },
  {
    name: 'rest (rclone serve restic --addr)',
    repo: () => ['-r', `rest:${rest.url}`, ...flags({ timeout: '30s', retries: '3' })],
    location: () => new RegExp(`at rest:http://127\\.0\\.0\\.1:${rest.port}/`),
    resticRepo: () => `rest:${rest.url}`,
  },
  {
    name: 'rclone (local remote)',
    repo: () => ['-r', `rclone:${join(tmp.path, 'rclone-repo')}`, ...flags({ 'rclone-args': '--config /dev/null' })],
    location: () => /at rclone:.*rclone-repo/,
    resticRepo: () => `rclone:${join(tmp.path, 'rclone-repo')}`,
  },
  {
    name: 'opendal fs',
    repo: () => ['-r', 'opendal:fs', ...flags({ root: join(tmp.path, 'opendal-fs-repo') })],
    location: () => /at opendal:fs/,
    // the fs service stores restic's layout: restic reads the directory itself
    resticRepo: () => join(tmp.path, 'opendal-fs-repo'),
  },
  {
    name: 'opendal s3 (s3rver)',
    repo: () => ['-r', 'opendal:s3', ...flags(s3rverOptions(s3.port, 'backups', '/repo'))],
    location: () => /at opendal:s3:backups\/repo/,
    prepare: () => mirrorS3rverObjects(s3.dir, 'backups', 'repo', join(tmp.path, 's3-mirror')),
    resticRepo: () => join(tmp.path, 's3-mirror'),
  },
]

describe('backup and restore on every backend', () => {
  for (const c of cases) {
    it(`${c.name}: restore gives identical files${c.resticRepo ? '; restic check --read-data passes' : ''}`, async () => {
      const init = (await rusticOk([...c.repo(), 'init'])).toString()
      expect(init).toMatch(c.location())
      expect(init).not.toMatch(/S3RVER/) // no credentials in the location
      const summary = JSON.parse(
        (await rusticOk([...c.repo(), '--no-cache', '--json', 'backup', src])).toString().trim().split('\n').pop()!,
      ) as { snapshot_id: string; files_new: number }
      expect(summary.files_new).toBe([...want.values()].filter((f) => f.type === 'file').length)

      const target = join(tmp.path, `restore-${c.name.split(' ')[0]}`)
      await rusticOk([...c.repo(), '--no-cache', 'restore', `${summary.snapshot_id}:${src}`, '--target', target])
      const got = await facts(target)
      expect([...got.keys()]).toEqual([...want.keys()])
      for (const [path, facts] of want) expect(got.get(path), path).toEqual(facts)
      await rm(target, { recursive: true, force: true })

      if (c.resticRepo) {
        await c.prepare?.()
        await restic(c.resticRepo(), ['check', '--read-data'])
        const snaps = JSON.parse((await restic(c.resticRepo(), ['snapshots', '--json'])).toString()) as Array<{ id: string }>
        expect(snaps.map((s) => s.id)).toEqual([summary.snapshot_id])
      }
    })
  }
})
