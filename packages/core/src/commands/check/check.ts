import { Worker } from 'node:worker_threads'
import { DecryptBackend } from '../../backend/DecryptBackend.js'
import type { WriteBackend } from '../../backend/Backend.js'
import type { FileType } from '../../backend/FileType.js'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Repository } from '../../repository/Repository.js'
import type { Control } from '../../progress/Control.js'
import { parseOptions } from '../../util/parseOptions.js'
import { backendLayers } from './backendLayers.js'
import { FindingCollector, type CheckResult } from './CheckFinding.js'
import { loadCheckIndex, type CheckIndex } from './CheckIndex.js'
import { CheckOptionsSchema, readDataMemory, type CheckOptions, type CheckOptionsParsed } from './CheckOptions.js'
import { checkCache } from './checkCache.js'
import { checkHotCold } from './checkHotCold.js'
import { checkKeys } from './checkKeys.js'
import { checkPackFiles } from './checkPackFiles.js'
import { checkSnapshots, type SnapshotWalk } from './checkSnapshots.js'
import { parseReadDataSubset, selectPacks, type ReadDataSubset } from './readDataSubset.js'
import { deferredProgress } from './deferredProgress.js'
import { headVerification, startHeadPacks, type HeadPack } from './headPacks.js'
import { PackDataReader, pieceBytes, type PackPathFinder, type PackRangeReader, type PackToRead } from './PackDataReader.js'
import { verifiersAlsoHere, verifiersHere, type PackVerifiers } from './PackVerifiers.js'
import type { VerifiedBlob } from './PackVerifier.js'
import { TreeLoader } from './TreeLoader.js'
import { VerifyPool } from './VerifyPool.js'

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
  const prepared = prepareCheck(repo, options)
  try {
    return await prepared.run(control)
  } finally {
    await prepared.close()
  }
}

/** A {@link check} made ready to run: its options checked and its verify workers starting. */
export interface PreparedCheck {
  /** Runs the check (once). */
  run(control: Control): Promise<CheckResult>
  /** Stops the verify workers (after {@link PreparedCheck.run}, or instead of it). */
  close(): Promise<void>
}

/**
 * Checks `options` (throws for invalid ones) and, with `readData`, starts the verify workers (on the
 * `idleThreads` given, then new ones), which load while the caller takes its lock (see `Repository.check`) and
 * the index is read; {@link check} in two steps.
 */
export function prepareCheck(repo: Repository, options: CheckOptions = {}): PreparedCheck {
  let opts: CheckOptionsParsed
  try {
    opts = parseOptions(CheckOptionsSchema, options, 'check options')
  } catch (e) {
    // (the idle threads given are check's to end)
    for (const thread of options.idleThreads ?? []) if (thread instanceof Worker) void thread.terminate()
    throw e
  }
  const subset: ReadDataSubset | undefined =
    opts.readDataSubset !== undefined ? parseReadDataSubset(opts.readDataSubset) : opts.readData ? { kind: 'all' } : undefined
  // (the pool as soon as its workers are launched: packs can be given to them before the index is loaded)
  const launched: { pool?: VerifyPool } = {}
  const pool = subset && opts.workers > 0 ? VerifyPool.start(repo.key, opts.workers, opts.idleThreads, (p) => (launched.pool = p)) : undefined
  pool?.catch(() => {})
  // (idle threads no verify worker runs on end now)
  for (const thread of opts.idleThreads.slice(pool ? opts.workers : 0)) void thread.terminate()
  return {
    run: (control) => checkWith(repo, opts, subset, pool, launched.pool, control),
    close: async () => {
      await (await pool?.catch(() => undefined))?.close()
    },
  }
}

async function checkWith(
  repo: Repository,
  opts: CheckOptionsParsed,
  subset: ReadDataSubset | undefined,
  pool: Promise<VerifyPool | undefined> | undefined,
  launched: VerifyPool | undefined,
  control: Control,
): Promise<CheckResult> {
  const { signal, progress } = repo.control(control)
  const concurrency = repo.options.concurrency
  const layers = backendLayers(repo.backend)
  const dbe = new DecryptBackend(layers.repository, repo.key, repo.config.version, repo.dbe.compressionLevel, {
    compressionAuto: repo.dbe.compressionAuto,
  })
  const findings = new FindingCollector()

  const listed = new Map<FileType, Map<Id, number>>()
  const spinner = progress('spinner', 'listing files')
  const lists = await Promise.all(LISTED_TYPES.map((type) => layers.repository.listWithSize(type, { signal })))
  LISTED_TYPES.forEach((type, i) => listed.set(type, new Map(lists[i])))
  spinner.finish()
  const packSizes = listed.get('pack')!
  // With every pack to be read from local files, the workers (up before the index is loaded) each begin one pack
  // by its own header meanwhile; once the index is there, a pack whose header agrees with it counts as verified
  // by that (what the worker found is what verifying it as usual finds), any other is verified as usual.
  const packPath = layers.packs.localPath?.bind(layers.packs)
  const heads: HeadPack[] =
    launched && packPath && subset?.kind === 'all' && !layers.hot
      ? startHeadPacks(launched, packSizes, (id) => packPath('pack', id, { signal }), pieceBytes(readDataMemory(opts, launched.lanes + 1), launched.lanes + 1))
      : []

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

  // Packs to read: the indexed ones that exist (a missing one is reported already), verified on the
  // workers and here if they started, else only here. What they find is reported after what the walk finds.
  // (a pack hashed before, with the size listed now, is not hashed again; a hot repository's copies are not the ones hashed)
  const selected = subset ? selectPacks(indexedPacks(index, packSizes, layers.hot ? undefined : opts.hashedPacks), subset) : []
  // (with workers, this thread verifies too, as one more lane)
  const started = selected.length === 0 ? undefined : await pool
  const verifiers: PackVerifiers | undefined = selected.length === 0 ? undefined : started ? verifiersAlsoHere(started, repo.key) : verifiersHere(repo.key)
  const dataFindings = new FindingCollector()
  const stopReading = new AbortController()
  const onAbort = (): void => stopReading.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort)
  const memory = readDataMemory(opts, verifiers?.lanes ?? 1)
  const reader = verifiers ? new PackDataReader(verifiers, dataFindings, { memory, signal: stopReading.signal }) : undefined
  const pendingMain = new Map(selected.map((p) => [p.id, p]))
  const pendingHot = new Map(layers.hot ? selected.filter((p) => index.packs.get(p.id)?.type === 'tree').map((p) => [p.id, p]) : [])
  // A tree pack the walk downloads whole is verified from that download instead of being read again, once the
  // walk is done with it, without opening again the trees the walk opened (see TreeLoader).
  const walkPending = layers.hot ? pendingHot : pendingMain
  const onPack = (id: Id, bytes: Uint8Array, verified: ReadonlyMap<number, VerifiedBlob>): void => {
    const pack = walkPending.get(id)
    if (!pack) return
    walkPending.delete(id)
    reader!.verifyDownloaded(pack, bytes, layers.hot ? HOT : undefined, verified)
  }
  const readFrom = (backend: WriteBackend): PackRangeReader => (pack, offset, length, s, into) =>
    backend.readPartial('pack', pack.id, false, offset, length, { signal: s, ...(into ? { into } : {}) })
  // where the packs are plain local files, the workers read the packs they verify themselves
  const localPath: PackPathFinder | undefined = layers.packs.localPath
    ? (pack, s) => layers.packs.localPath!('pack', pack.id, { signal: s })
    : undefined

  // The packs the walk does not download (data packs; with a hot repository, the cold ones) are read while
  // the trees are walked, so that the workers are busy meanwhile.
  const early = reader ? take(pendingMain, (p) => layers.hot !== undefined || index.packs.get(p.id)?.type !== 'tree') : []
  // the packs a worker began by their headers (see above), if the workers started
  const begun = started !== undefined && started === launched ? heads.filter((h) => early.some((p) => p.id === h.id)) : []
  // while this thread walks the trees, it only reads packs for the workers (it verifies once the walk is done)
  reader?.holdHereLane()
  const earlyProgress = deferredProgress()
  const earlyRead = (async () => {
    if (early.length === 0) return
    const readOptions = { concurrency, progress: earlyProgress, ...(localPath ? { localPath } : {}) }
    // (taken in before the other packs are given lanes: they are already on their workers)
    const adopted = begun.map(async (h) => {
      const pack = early.find((p) => p.id === h.id)!
      if (await reader!.adopt(pack, h.lane, headVerification(h, pack))) earlyProgress.inc(pack.size)
      else await reader!.read([pack], readFrom(layers.packs), readOptions)
    })
    for (const a of adopted) a.catch(() => {})
    const rest = early.filter((p) => !begun.some((h) => h.id === p.id))
    try {
      await repo.warmUpPacks(rest.map((p) => p.id), { signal: stopReading.signal })
      await reader!.read(rest, readFrom(layers.packs), readOptions)
    } finally {
      await Promise.all(adopted)
    }
  })()
  earlyRead.catch(() => {})
  try {
    const loader = new TreeLoader(layers.repository, repo.key, index.blobs, hotPacks ?? packSizes, reader ? onPack : undefined)
    const walk = await checkSnapshots(dbe, loader, index, { specs: opts.snapshots, filter: opts.filter }, findings, {
      concurrency,
      signal,
      progress: progress('counter', 'checking snapshots, trees and blobs'),
    })
    if (walk.complete) reportUnused(index, walk, findings)
    // (the tree packs it still holds are verified here first: what is left of them after the walk is little)
    await loader.flush()
    reader?.releaseHereLane()

    if (reader) {
      throwIfAborted(signal)
      for (const [copy, pending] of [[undefined, pendingMain], [HOT, pendingHot]] as const) {
        const packs = [...pending.values()]
        const begun = copy ? [] : early
        if (packs.length + begun.length === 0) continue
        const p = progress('bytes', copy ? `reading pack data (${copy})` : 'reading pack data')
        p.setLength([...packs, ...begun].reduce((n, pack) => n + pack.size, 0))
        if (!copy) {
          earlyProgress.attach(p)
          await earlyRead
          await repo.warmUpPacks(packs.map((pack) => pack.id), { signal })
        }
        await reader.read(packs, readFrom(copy ? layers.hot! : layers.packs), { concurrency, progress: p, copy, ...(!copy && localPath ? { localPath } : {}) })
        p.finish()
      }
      await reader.settle()
      for (const { kind, message, level: _, ...about } of dataFindings.findings) findings.add(kind, message, about)
    }

    return {
      findings: findings.findings,
      summary: findings.summary,
      snapshots: walk.snapshots,
      trees: walk.trees,
      packs: index.packs.size,
      packsRead: reader?.packs ?? 0,
      bytesRead: reader?.bytes ?? 0,
    }
  } finally {
    // nothing goes on reading once check is over (a failed walk stops the packs read meanwhile)
    stopReading.abort()
    signal?.removeEventListener('abort', onAbort)
    await Promise.allSettled([earlyRead, reader?.settle()])
  }
}

/** Takes the entries of `pending` that `pick` picks out of it. */
function take(pending: Map<Id, PackToRead>, pick: (p: PackToRead) => boolean): PackToRead[] {
  const out: PackToRead[] = []
  for (const p of pending.values()) if (pick(p)) out.push(p)
  for (const p of out) pending.delete(p.id)
  return out
}

/**
 * The indexed packs that exist, with their listed sizes, in a stable order; `hashed` those whose listed size is the
 * one `hashedPacks` gives (see `CheckOptions.hashedPacks`).
 */
function indexedPacks(index: CheckIndex, packSizes: ReadonlyMap<Id, number>, hashedPacks?: ReadonlyMap<Id, number>): PackToRead[] {
  const out: PackToRead[] = []
  for (const pack of index.packs.values()) {
    const size = packSizes.get(pack.id)
    if (size === undefined) continue
    out.push({ id: pack.id, size, blobs: pack.blobs, ...(hashedPacks?.get(pack.id) === size ? { hashed: true } : {}) })
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1))
}

/**
 * Notes every indexed blob that no snapshot uses (as restic's `--check-unused`; `prune` removes them). When
 * the walk used as many distinct indexed blobs of a type as the index holds, none is unused and the index is
 * not gone through.
 */
function reportUnused(index: CheckIndex, walk: SnapshotWalk, findings: FindingCollector): void {
  for (const type of ['tree', 'data'] as const) {
    const used = type === 'tree' ? walk.usedTrees : walk.usedData
    if (usedIndexed(index, walk, type) === index.blobs.count(type)) continue
    for (const [id] of index.blobs.entries(type)) {
      if (!used.has(id)) findings.add('unusedBlob', `unused blob <${type}/${id}>`, { blob: { type, id } })
    }
  }
}

/** How many distinct blobs of `type` the walk used that the index lists. */
function usedIndexed(index: CheckIndex, walk: SnapshotWalk, type: 'tree' | 'data'): number {
  if (type === 'data') return walk.usedDataIndexed
  let n = 0
  for (const id of walk.usedTrees) if (index.blobs.has('tree', id)) n++
  return n
}
