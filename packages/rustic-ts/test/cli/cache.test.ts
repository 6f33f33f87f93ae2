/**
 * Issue 6 acceptance, cache: on a REST repository (rclone serve restic behind a request-counting proxy),
 * a second `snapshots` / `ls` of the CLI is served from the on-disk cache (`--cache-dir`), and a corrupted
 * cache file is detected, reported, refetched and repaired.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRcloneRestServer, type RcloneRestServer } from '../../../backend-rest/test/rcloneServer.js'
import { startCountingProxy, type CountingProxy } from '../helpers/countingProxy.js'
import { mkdata } from '../helpers/mkdata.js'
import { rustic, rusticOk, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let server: RcloneRestServer
let proxy: CountingProxy
let repo: string[]
let cacheBase: string
let repoId: string
let snapshotId: string

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-cache-')
  src = join(tmp.path, 'src')
  await mkdata(src, ['--scale', '0.02'])
  await rm(join(src, 'big', 'random0.img')) // the big random files add nothing here but time
  await rm(join(src, 'media', 'copy-of-random0.img'))
  server = await startRcloneRestServer(join(tmp.path, 'server'))
  proxy = await startCountingProxy(server.url)
  repo = ['-r', `rest:${proxy.url}`]
  cacheBase = join(tmp.path, 'cache')
  repoId = (JSON.parse((await rusticOk([...repo, '--json', 'init'])).toString()) as { id: string }).id
  const out = (await rusticOk([...repo, '--no-cache', '--json', 'backup', src])).toString()
  snapshotId = (JSON.parse(out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await server?.stop()
  await tmp?.remove()
})

/** `snapshots --json` and `ls --json latest` with the cache; returns their outputs and warnings. */
async function snapshotsAndLs(): Promise<{ out: string; warnings: string }> {
  let out = ''
  let warnings = ''
  for (const args of [['snapshots'], ['ls', 'latest']]) {
    const r = await rustic([...repo, '--cache-dir', cacheBase, '--json', ...args])
    if (r.code !== 0) throw new Error(`rustic-ts ${args.join(' ')} failed: ${r.stderr}`)
    out += r.stdout.toString()
    warnings += r.stderr
  }
  return { out, warnings }
}

/** Every cache entry of a file type directory (`snapshots`, `index`, `keys`, `data`). */
async function cached(dir: string): Promise<string[]> {
  const base = join(cacheBase, repoId, dir)
  const out: string[] = []
  for (const sub of await readdir(base).catch(() => [])) for (const f of await readdir(join(base, sub))) out.push(join(base, sub, f))
  return out
}

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')
const name = (path: string): string => path.slice(path.lastIndexOf('/') + 1)

let first = ''

/** The files read from the server (key files shown as `/keys/`), sorted. */
const openingReads = (): string[] => proxy.fileReads().map((r) => (r.path.startsWith('/keys/') ? '/keys/' : r.path)).sort()

describe('the on-disk cache in front of a REST repository', () => {
  it('a second snapshots/ls is served from the cache: no snapshot, index or pack requests', async () => {
    proxy.reset()
    first = (await snapshotsAndLs()).out
    expect(first).toContain(snapshotId)
    // the first run read every kind of file from the server...
    expect(proxy.fileReads('snapshots').map((r) => r.path)).toEqual([`/snapshots/${snapshotId}`])
    expect(proxy.fileReads('index').length).toBeGreaterThan(0)
    expect(proxy.fileReads('keys').length).toBeGreaterThan(0)
    expect(proxy.fileReads('data').length).toBeGreaterThan(0)
    // ...into <cache-dir>/<repo id>
    expect((await cached('snapshots')).map(name)).toEqual([snapshotId])
    expect((await cached('data')).length).toBeGreaterThan(0)

    proxy.reset()
    const second = await snapshotsAndLs()
    expect(second.out).toBe(first)
    expect(second.warnings).toBe('')
    // only what opening needs before the repository id (and so the cache) is known: config and key
    expect(openingReads()).toEqual(['/config', '/config', '/keys/', '/keys/'])
    expect(proxy.requests.length).toBeGreaterThan(2) // listings still ask the server (to drop stale entries)
  })

  it('a corrupted cache file is detected, reported, refetched and repaired', async () => {
    const [snapFile] = await cached('snapshots')
    const treePacks = await cached('data')
    const corrupt = async (path: string): Promise<void> => {
      const b = await readFile(path)
      b[b.length >> 1] = b[b.length >> 1]! ^ 0xff
      await writeFile(path, b)
    }
    await corrupt(snapFile!)
    for (const p of treePacks) await corrupt(p)
    expect(await sha256(snapFile!)).not.toBe(snapshotId)

    proxy.reset()
    const run = await snapshotsAndLs()
    expect(run.out).toBe(first) // right answers despite the damage
    expect(run.warnings).toMatch(/^warning: .*snapshot.*/m)
    expect(run.warnings).toContain(snapshotId)
    expect(proxy.fileReads('snapshots').map((r) => r.path)).toEqual([`/snapshots/${snapshotId}`])
    expect(proxy.fileReads('data').map((r) => r.path.slice('/data/'.length)).sort()).toEqual(treePacks.map(name).sort())
    // the entries were replaced by good copies
    expect(await sha256(snapFile!)).toBe(snapshotId)
    for (const p of treePacks) expect(await sha256(p)).toBe(name(p))

    proxy.reset()
    const again = await snapshotsAndLs()
    expect(again.out).toBe(first)
    expect(again.warnings).toBe('')
    expect(openingReads()).toEqual(['/config', '/config', '/keys/', '/keys/'])
  })
})
