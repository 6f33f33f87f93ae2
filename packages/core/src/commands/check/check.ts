import { DecryptBackend } from '../../backend/DecryptBackend.js'
import type { FileType } from '../../backend/FileType.js'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Repository } from '../../repository/Repository.js'
import type { Control } from '../../progress/Control.js'
import { parseOptions } from '../../util/parseOptions.js'
import { backendLayers } from './backendLayers.js'
import { FindingCollector, type CheckResult } from './CheckFinding.js'
import { loadCheckIndex, type CheckIndex } from './CheckIndex.js'
import { CheckOptionsSchema, type CheckOptions } from './CheckOptions.js'
import { checkCache } from './checkCache.js'
import { checkHotCold } from './checkHotCold.js'
import { checkKeys } from './checkKeys.js'
import { checkPackFiles } from './checkPackFiles.js'
import { checkSnapshots, type SnapshotWalk } from './checkSnapshots.js'
import { parseReadDataSubset, selectPacks, type ReadDataSubset } from './readDataSubset.js'
import { readPackData, recordPackProblems, type PackToRead } from './readPackData.js'
import { TreeLoader } from './TreeLoader.js'
import { verifyPack } from './verifyPack.js'

const LISTED_TYPES: readonly FileType[] = ['key', 'snapshot', 'index', 'pack']
const HOT = 'hot repository'

/**
 * Checks a repository as restic's and rustic's `check` do, reading the repository itself (never the
 * cache): key, index and snapshot files are read and checked against their ids; every indexed pack exists
 * with the size its index entries imply, and unindexed packs are noted; the snapshots' trees are walked
 * and every referenced blob must be indexed; blobs no snapshot uses are noted. With `readData` (or a
 * `readDataSubset`) every selected pack is downloaded once and verified (hash, header against the index,
 * every blob opened and hashed). The cache's copies are compared with the repository and damaged ones
 * repaired in the cache; a hot repository is compared with its cold one.
 *
 * Problems are findings in the result, not exceptions: this throws only for invalid options, an
 * unreachable backend or `Aborted`.
 */
export async function check(repo: Repository, options: CheckOptions = {}, control: Control = {}): Promise<CheckResult> {
  const opts = parseOptions(CheckOptionsSchema, options, 'check options')
  const subset: ReadDataSubset | undefined =
    opts.readDataSubset !== undefined ? parseReadDataSubset(opts.readDataSubset) : opts.readData ? { kind: 'all' } : undefined
  const { signal, progress } = repo.control(control)
  const concurrency = repo.options.concurrency
  const layers = backendLayers(repo.backend)
  const dbe = new DecryptBackend(layers.repository, repo.key, repo.config.version)
  const findings = new FindingCollector()

  const listed = new Map<FileType, Map<Id, number>>()
  const spinner = progress('spinner', 'listing files')
  for (const type of LISTED_TYPES) listed.set(type, new Map(await layers.repository.listWithSize(type, { signal })))
  spinner.finish()
  const packSizes = listed.get('pack')!

  if (layers.cache && !opts.trustCache) {
    await checkCache(layers.cache, layers.repository, listed, findings, { concurrency, signal, progress: progress('counter', 'checking the cache') })
  }
  await checkKeys(layers.repository, listed.get('key')!.keys(), findings, signal)
  const index = await loadCheckIndex(dbe, [...listed.get('index')!.keys()], findings, {
    concurrency,
    signal,
    progress: progress('counter', 'reading index'),
  })
  const hotPacks = layers.hot ? await checkHotCold(layers.hot, layers.packs, listed, index, findings, { concurrency, signal }) : undefined
  checkPackFiles(index, packSizes, findings)

  // Packs to read: the indexed ones that exist (a missing one is reported already).
  const selected = subset ? selectPacks(indexedPacks(index, packSizes), subset) : []
  const pendingMain = new Map(selected.map((p) => [p.id, p]))
  const pendingHot = new Map(layers.hot ? selected.filter((p) => index.packs.get(p.id)?.type === 'tree').map((p) => [p.id, p]) : [])
  let packsRead = 0
  let bytesRead = 0
  // A tree pack the walk downloads whole is verified from that download instead of being read again.
  const walkPending = layers.hot ? pendingHot : pendingMain
  const onPack = (id: Id, bytes: Uint8Array): void => {
    const pack = walkPending.get(id)
    if (!pack) return
    walkPending.delete(id)
    recordPackProblems(id, verifyPack(repo.key, id, bytes, pack.blobs), findings, layers.hot ? HOT : undefined)
    packsRead++
    bytesRead += bytes.length
  }
  const loader = new TreeLoader(layers.repository, repo.key, index.blobs, hotPacks ?? packSizes, subset ? onPack : undefined)
  const walk = await checkSnapshots(dbe, loader, index, { specs: opts.snapshots, filter: opts.filter }, findings, {
    concurrency,
    signal,
    progress: progress('counter', 'checking snapshots, trees and blobs'),
  })
  if (walk.complete) reportUnused(index, walk, findings)

  if (subset) {
    throwIfAborted(signal)
    for (const [copy, pending] of [[undefined, pendingMain], [HOT, pendingHot]] as const) {
      if (pending.size === 0) continue
      const packs = [...pending.values()]
      const backend = copy ? layers.hot! : layers.packs
      if (!copy) await repo.warmUpPacks(packs.map((p) => p.id), { signal })
      const p = progress('bytes', copy ? `reading pack data (${copy})` : 'reading pack data')
      p.setLength(packs.reduce((n, pack) => n + pack.size, 0))
      const done = await readPackData(repo.key, packs, (pack, s) => backend.readFull('pack', pack.id, { signal: s }), findings, {
        concurrency,
        memory: opts.readDataMemory,
        signal,
        progress: p,
        copy,
      })
      p.finish()
      packsRead += done.packs
      bytesRead += done.bytes
    }
  }

  return {
    findings: findings.findings,
    summary: findings.summary,
    snapshots: walk.snapshots,
    trees: walk.trees,
    packs: index.packs.size,
    packsRead,
    bytesRead,
  }
}

/** The indexed packs that exist, with their listed sizes, in a stable order. */
function indexedPacks(index: CheckIndex, packSizes: ReadonlyMap<Id, number>): PackToRead[] {
  const out: PackToRead[] = []
  for (const pack of index.packs.values()) {
    const size = packSizes.get(pack.id)
    if (size !== undefined) out.push({ id: pack.id, size, blobs: pack.blobs })
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1))
}

/** Notes every indexed blob that no snapshot uses (as restic's `--check-unused`; `prune` removes them). */
function reportUnused(index: CheckIndex, walk: SnapshotWalk, findings: FindingCollector): void {
  for (const type of ['tree', 'data'] as const) {
    for (const [id] of index.blobs.entries(type)) {
      if (!(type === 'tree' ? walk.usedTrees : walk.usedData).has(id)) findings.add('unusedBlob', `unused blob <${type}/${id}>`, { blob: { type, id } })
    }
  }
}
