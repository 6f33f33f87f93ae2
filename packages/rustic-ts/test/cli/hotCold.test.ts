/**
 * Issue 6 acceptance, hot/cold and warm-up:
 * - `rustic-ts -r rest:COLD --repo-hot HOT` backs up; the cold repository alone passes
 *   `restic check --read-data`; the hot one holds no data packs;
 * - with the hot repository present, `snapshots` and `ls` read no file from cold but its config
 *   (requests counted by a proxy in front of the cold REST server);
 * - a restore whose packs need warm-up runs the warm-up command with the right pack ids before reading them.
 */
import { existsSync, readFileSync } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LocalBackend,
  Repository,
  RestBackend,
  type CallOptions,
  type FileType,
  type Id,
  type WriteBackend,
} from 'rustic-ts'
import { startRcloneRestServer, type RcloneRestServer } from '../../../backend-rest/test/rcloneServer.js'
import { startCountingProxy, type CountingProxy } from '../helpers/countingProxy.js'
import { mkdata } from '../helpers/mkdata.js'
import { PASSWORD, restic, rusticOk, tempDir } from '../helpers/restic.js'
import { restoredTreeFacts as facts, type EntryFacts } from '../helpers/treeCompare.js'

const KDF = { N: 1024, r: 8, p: 1 }

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let want: Map<string, EntryFacts>
let server: RcloneRestServer
let proxy: CountingProxy

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-hotcold-')
  src = join(tmp.path, 'src')
  await mkdata(src, ['--scale', '0.02'])
  await rm(join(src, 'media', 'copy-of-random0.img')) // a 64 MiB duplicate: only time
  want = await facts(src)
  server = await startRcloneRestServer(join(tmp.path, 'cold'))
  proxy = await startCountingProxy(server.url)
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await server?.stop()
  await tmp?.remove()
})

/** Ids of the pack files stored below `dir/data`. */
async function packFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const sub of await readdir(join(dir, 'data'))) out.push(...(await readdir(join(dir, 'data', sub))))
  return out.sort()
}

describe('hot/cold repositories through the CLI (-r rest:... --repo-hot DIR)', () => {
  it('cold passes restic check --read-data, hot has no data packs, snapshots and ls read nothing from cold', async () => {
    const hotDir = join(tmp.path, 'hot')
    const cold = ['-r', `rest:${proxy.url}`, '--no-cache']
    const both = [...cold, '--repo-hot', hotDir]
    await rusticOk([...both, 'init'])
    const summary = JSON.parse((await rusticOk([...both, '--json', 'backup', src])).toString().trim().split('\n').pop()!) as {
      snapshot_id: string
    }

    // the cold repository alone is a complete restic repository
    await restic(`rest:${server.url}`, ['check', '--read-data'])

    // the hot repository holds tree packs only; every pack of the hot one is also in the cold one
    const repo = await Repository.open(
      { noCache: true },
      { repository: new RestBackend(server.url), repoHot: new LocalBackend(hotDir) },
      { password: PASSWORD },
    )
    const indexed = await repo.toIndexed()
    await repo.close()
    const packs = indexed.index.packs()
    const hotPacks = await packFiles(hotDir)
    const coldPacks = await packFiles(join(tmp.path, 'cold'))
    expect(hotPacks.length).toBeGreaterThan(0)
    for (const id of hotPacks) expect(packs.get(id as Id), `hot pack ${id}`).toBe('tree')
    const dataPacks = [...packs].filter(([, t]) => t === 'data').map(([id]) => id)
    expect(dataPacks.length).toBeGreaterThan(0)
    for (const id of dataPacks) expect(coldPacks).toContain(id)
    expect(coldPacks).toEqual([...packs.keys()].sort())

    // with the hot repository: listings go to cold, but the only file read from cold is its config
    proxy.reset()
    const snaps = JSON.parse((await rusticOk([...both, '--json', 'snapshots'])).toString()) as Array<{ id: string }>
    expect(snaps.map((s) => s.id)).toEqual([summary.snapshot_id])
    const lines = (await rusticOk([...both, '--json', 'ls', 'latest'])).toString().trim().split('\n')
    expect(lines.length).toBeGreaterThan(want.size) // the snapshot line, the path components, every entry
    expect(proxy.requests.some((r) => r.method === 'GET' && r.path === '/snapshots/')).toBe(true)
    expect(proxy.fileReads().map((r) => r.path)).toEqual(['/config', '/config'])

    // the counter works: without the hot repository the same commands read snapshots, index and packs from cold
    proxy.reset()
    await rusticOk([...cold, '--json', 'snapshots'])
    await rusticOk([...cold, '--json', 'ls', 'latest'])
    expect(proxy.fileReads('snapshots').length).toBe(2)
    expect(proxy.fileReads('index').length).toBeGreaterThan(0)
    expect(proxy.fileReads('data').length).toBeGreaterThan(0)
  })
})

/** Records, for every data pack read, whether the warm-up log named it at that time. */
class ReadRecorder implements WriteBackend {
  readonly packReads: Array<{ id: Id; warmedUp: boolean }> = []
  constructor(
    readonly inner: WriteBackend,
    private readonly log: string,
  ) {}
  private warmed(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').split('\n').filter(Boolean) : []
  }
  location(): string {
    return this.inner.location()
  }
  list(type: FileType, o?: CallOptions): Promise<Id[]> {
    return this.inner.list(type, o)
  }
  listWithSize(type: FileType, o?: CallOptions): Promise<Array<[Id, number]>> {
    return this.inner.listWithSize(type, o)
  }
  readFull(type: FileType, id: Id, o?: CallOptions): Promise<Uint8Array> {
    return this.inner.readFull(type, id, o)
  }
  readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, o?: CallOptions): Promise<Uint8Array> {
    if (type === 'pack') this.packReads.push({ id, warmedUp: this.warmed().includes(id) })
    return this.inner.readPartial(type, id, cacheable, offset, length, o)
  }
  create(o?: CallOptions): Promise<void> {
    return this.inner.create(o)
  }
  writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, o?: CallOptions): Promise<void> {
    return this.inner.writeBytes(type, id, cacheable, data, o)
  }
  remove(type: FileType, id: Id, cacheable: boolean, o?: CallOptions): Promise<void> {
    return this.inner.remove(type, id, cacheable, o)
  }
}

describe('warm-up', () => {
  it('a restore from hot/cold runs the warm-up command with the ids of the packs it reads, before reading them', async () => {
    const coldDir = join(tmp.path, 'wu-cold')
    const hotDir = join(tmp.path, 'wu-hot')
    const init = await Repository.init(
      { noCache: true },
      { repository: new LocalBackend(coldDir), repoHot: new LocalBackend(hotDir) },
      { password: PASSWORD },
      { kdf: KDF },
    )
    const { snapshot } = await (await init.toIndexed()).backup([src])

    const log = join(tmp.path, 'warm-up.log')
    const cold = new ReadRecorder(new LocalBackend(coldDir), log)
    const repo = await Repository.open(
      { noCache: true, warmUpCommand: `sh -c 'printf "%s\\n" "$@" >> ${log}' warm-up %ids`, warmUpBatch: 2 },
      { repository: cold, repoHot: new LocalBackend(hotDir) },
      { password: PASSWORD },
    )
    const indexed = await repo.toIndexed()
    expect(cold.packReads).toEqual([]) // tree packs come from hot
    const { node } = await indexed.resolveSnapshotPath(`${snapshot.id!}:${src}`)
    const target = join(tmp.path, 'wu-restore')
    const plan = await indexed.planRestore(node, target)
    expect(existsSync(log)).toBe(false) // planning reads trees only: nothing to warm up
    await indexed.restore(plan)

    const planned = [...new Set([...plan.reads].map((r) => r.packId))].sort()
    expect(planned.length).toBeGreaterThan(1)
    for (const id of planned) expect(indexed.index.packs().get(id)).toBe('data')
    expect(existsSync(log), 'restore must run the warm-up command (repo.warmUpPacks with the packs of its plan)').toBe(true)
    const warmed = readFileSync(log, 'utf8').split('\n').filter(Boolean)
    expect([...warmed].sort()).toEqual(planned) // each needed pack once, and nothing else
    expect([...new Set(cold.packReads.map((r) => r.id))].sort()).toEqual(planned)
    expect(cold.packReads.filter((r) => !r.warmedUp)).toEqual([]) // every read came after its warm-up
    const got = await facts(target)
    expect([...got.keys()]).toEqual([...want.keys()])
    for (const [path, f] of want) expect(got.get(path), path).toEqual(f)
  })
})
