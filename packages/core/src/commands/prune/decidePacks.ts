import type { PackSizer } from '../../blob/PackSizer.js'
import { RusticError } from '../../error/RusticError.js'
import { shortId, type Id } from '../../id/Id.js'
import { goTimeToDate, packSizeFromBlobs, type BlobType, type IndexFile, type IndexPack } from '../../repofile/index.js'
import type { PackAction, PackCount, PruneBlobStats, PrunePack, PruneStats } from './PrunePlan.js'
import type { ResolvedPruneOptions, SizeLimit } from './PruneOptions.js'

/** Index files with fewer blobs than this are merged into new ones when prune rewrites the index (rustic's `MIN_INDEX_LEN`). */
export const MIN_INDEX_BLOBS = 10_000

/** Needed blobs by type, each with a counter (see {@link decidePacks}). */
export type UsedBlobs = Record<BlobType, Map<Id, number>>

/** What {@link decidePacks} works from. */
export interface DecideInput {
  /** Every index file, in a fixed order (the first entry of a pack listed twice wins). */
  indexFiles: Array<{ id: Id; file: IndexFile }>
  /** Every blob some snapshot needs, with counter 0 (used up: emptied by the decision). */
  used: UsedBlobs
  /** Every pack file in the repository, with its size. */
  existing: Map<Id, number>
  options: ResolvedPruneOptions
  /** The plan's time in ms. */
  now: number
  /** Pack sizers (target sizes) by blob type. */
  sizers: Record<BlobType, PackSizer>
}

/** What {@link decidePacks} decided. */
export interface Decision {
  packs: PrunePack[]
  stats: PruneStats
  rewriteIndexFiles: Id[]
}

type RepackReason = 'partlyUsed' | 'toCompress' | 'sizeMismatch'

interface Candidate {
  pack: PrunePack
  reason: RepackReason
}

interface IndexEntry {
  id: Id
  modified: boolean
  packs: PrunePack[]
  blobCount: number
}

const ACTIONS: PackAction[] = ['keep', 'repack', 'markDelete', 'delete', 'recover', 'keepMarked']

function blobStats(): PruneBlobStats {
  return { used: 0, unused: 0, remove: 0, repack: 0, repackRemove: 0 }
}

function emptyStats(): PruneStats {
  const actions = Object.fromEntries(ACTIONS.map((a) => [a, { packs: 0, bytes: 0 }])) as Record<PackAction, PackCount>
  return {
    blobs: { data: blobStats(), tree: blobStats() },
    bytes: { data: blobStats(), tree: blobStats() },
    packsByUse: { used: 0, partlyUsed: 0, unused: 0 },
    actions,
    unindexed: { packs: 0, bytes: 0 },
    repository: { packs: 0, bytes: 0 },
    indexFiles: { total: 0, rewrite: 0 },
    totals: { used: 0, unused: 0, unindexed: 0, total: 0, repack: 0, repackRemove: 0, remove: 0, prune: 0, remaining: 0, unusedAfter: 0 },
  }
}

/** The size of a pack as its index entry describes it (a `size` given for packs without blobs). */
export function indexPackSize(p: IndexPack): number {
  return p.blobs.length === 0 && p.size !== undefined ? p.size : packSizeFromBlobs(p.blobs)
}

function timeMs(t: string | undefined): number | undefined {
  if (t === undefined) return undefined
  try {
    return goTimeToDate(t).getTime()
  } catch {
    return undefined
  }
}

/**
 * Decides what becomes of every pack, as rustic's prune does:
 *
 * 1. Packs listed twice keep their first entry; a pack listed both as a pack and under `packs_to_delete`
 *    counts as not marked. Index files where this drops an entry are rewritten.
 * 2. Each needed blob's counter counts its copies in the index; a needed blob without a copy fails the
 *    plan (`BlobNotFound`): the repository is damaged.
 * 3. Packs are visited, the marked ones first: a blob is used in a pack when it is its last copy not yet
 *    visited, or when the pack holds another used blob (then the other copies become unused). Unused
 *    packs are marked (or deleted), marked packs deleted once `keepDelete` has passed or recovered when
 *    needed, and partly used packs, packs to compress and packs of the wrong size become candidates.
 * 4. Candidates are repacked, trees first and then the emptiest, until `maxRepack` is reached; partly
 *    used data packs only while more than `maxUnused` would stay unused. Packs of the wrong size are
 *    merged when their type is repacked anyway or when they add up to more than a target pack.
 * 5. Needed packs must exist with the size the index gives (`PackNotFound`, `PackSizeMismatch`); every
 *    pack file no index names is marked (deleted with `instantDelete`).
 * 6. For each repacked pack, the needed blobs no kept pack holds are picked (each once).
 * 7. Index files with a pack that changes, and small ones, are rewritten.
 */
export function decidePacks(input: DecideInput): Decision {
  const { options, sizers, used } = input
  const stats = emptyStats()
  const entries = collectEntries(input.indexFiles)

  // 2. count copies of needed blobs
  for (const e of entries) {
    for (const p of e.packs) {
      for (const b of p.blobs) {
        const c = used[b.type].get(b.id)
        if (c !== undefined && c < 255) used[b.type].set(b.id, c + 1)
      }
    }
  }
  checkAllIndexed(used)

  // 3. decide pack by pack, marked packs first
  const candidates: Candidate[] = []
  for (const markCase of [true, false]) {
    for (const e of entries) {
      for (const pack of e.packs) {
        if (pack.marked !== markCase) continue
        decidePack(pack, input, stats, candidates)
      }
    }
  }

  // 4. repack within the limits
  decideRepack(candidates, options, stats, sizers)

  // 5. compare with the pack files
  const existing = new Map(input.existing)
  for (const e of entries) for (const p of e.packs) checkExisting(p, existing)
  const unindexed: PrunePack[] = []
  for (const [id, size] of existing) {
    unindexed.push({
      id,
      blobType: undefined,
      size,
      action: options.instantDelete ? 'delete' : 'markDelete',
      status: ['unindexed'],
      marked: false,
      indexFile: undefined,
      time: undefined,
      usedBlobs: 0,
      unusedBlobs: 0,
      usedSize: 0,
      unusedSize: 0,
      blobs: [],
    })
    stats.unindexed.packs++
    stats.unindexed.bytes += size
  }

  // 6. pick the blobs to copy
  pickBlobsToCopy(entries, used)

  // 7. index files to rewrite
  const rewrite = indexFilesToRewrite(entries)
  stats.indexFiles = { total: entries.length, rewrite: rewrite.length }

  const packs = entries.flatMap((e) => e.packs).concat(unindexed)
  for (const p of packs) {
    stats.actions[p.action].packs++
    stats.actions[p.action].bytes += p.size
  }
  for (const size of input.existing.values()) {
    stats.repository.packs++
    stats.repository.bytes += size
  }
  stats.totals = totals(stats)
  return { packs, stats, rewriteIndexFiles: rewrite }
}

/** Step 1: one entry per pack (first wins), marked entries dropped when the pack is also listed unmarked. */
function collectEntries(files: DecideInput['indexFiles']): IndexEntry[] {
  const seen = new Set<Id>()
  const seenMarked = new Set<Id>()
  const entries: IndexEntry[] = files.map(({ id, file }) => {
    const e: IndexEntry = { id, modified: false, packs: [], blobCount: 0 }
    for (const p of file.packs) {
      if (seen.has(p.id)) e.modified = true
      else {
        seen.add(p.id)
        e.packs.push(prunePack(p, false, id))
      }
    }
    for (const p of file.packsToDelete ?? []) {
      if (seenMarked.has(p.id)) e.modified = true
      else {
        seenMarked.add(p.id)
        e.packs.push(prunePack(p, true, id))
      }
    }
    return e
  })
  for (const e of entries) {
    const before = e.packs.length
    e.packs = e.packs.filter((p) => !p.marked || !seen.has(p.id))
    if (e.packs.length !== before) e.modified = true
    e.blobCount = e.packs.reduce((n, p) => n + p.blobs.length, 0)
  }
  return entries
}

function prunePack(p: IndexPack, marked: boolean, indexFile: Id): PrunePack {
  return {
    id: p.id,
    blobType: p.blobs[0]?.type,
    size: indexPackSize(p),
    action: 'keep',
    status: [],
    marked,
    indexFile,
    time: p.time,
    usedBlobs: 0,
    unusedBlobs: 0,
    usedSize: 0,
    unusedSize: 0,
    blobs: p.blobs,
  }
}

function checkAllIndexed(used: UsedBlobs): void {
  const missing: string[] = []
  let count = 0
  for (const type of ['tree', 'data'] as const) {
    for (const [id, c] of used[type]) {
      if (c > 0) continue
      count++
      if (missing.length < 3) missing.push(`${type} blob ${id}`)
    }
  }
  if (count > 0) {
    throw new RusticError(
      'Repository',
      `${count} blob(s) that snapshots need are in no index file (${missing.join(', ')}${count > 3 ? ', ...' : ''}): the repository is damaged; nothing was changed. Run check, and repair index if packs hold them`,
      { code: 'BlobNotFound' },
    )
  }
}

/**
 * Counts a pack's used and unused blobs (rustic's `PackInfo::from_pack`): a blob is used here when this is
 * its last copy not yet visited; once one blob is used here, every needed blob of the pack is used here
 * and its other copies become unused (counter 0).
 */
function countUse(pack: PrunePack, used: UsedBlobs): void {
  const blobs = pack.blobs
  let first = -1
  for (let i = 0; i < blobs.length; i++) {
    const b = blobs[i]!
    const map = used[b.type]
    const c = map.get(b.id)
    if (c !== undefined && c > 0) {
      map.set(b.id, c - 1)
      if (c === 1) {
        first = i
        break
      }
    }
  }
  let usedBlobs = 0
  let usedSize = 0
  if (first >= 0) {
    for (let i = 0; i < blobs.length; i++) {
      const b = blobs[i]!
      const map = used[b.type]
      const c = map.get(b.id)
      if (i === first || (c !== undefined && c > 0)) {
        usedBlobs++
        usedSize += b.length
        map.set(b.id, 0)
      }
    }
  }
  let total = 0
  for (const b of blobs) total += b.length
  pack.usedBlobs = usedBlobs
  pack.usedSize = usedSize
  pack.unusedBlobs = blobs.length - usedBlobs
  // a marked pack listed without its blobs (it was marked when no index named it): all of it is unused
  pack.unusedSize = blobs.length === 0 ? pack.size : total - usedSize
}

function isCompressed(pack: PrunePack): boolean {
  return pack.blobs.every((b) => b.uncompressedLength !== undefined)
}

function isMixed(pack: PrunePack): boolean {
  return pack.blobs.some((b) => b.type !== pack.blobType)
}

/** Step 3 for one pack. */
function decidePack(pack: PrunePack, input: DecideInput, stats: PruneStats, candidates: Candidate[]): void {
  const { options, now } = input
  countUse(pack, input.used)
  const type = pack.blobType ?? 'data'
  stats.blobs[type].used += pack.usedBlobs
  stats.blobs[type].unused += pack.unusedBlobs
  stats.bytes[type].used += pack.usedSize
  stats.bytes[type].unused += pack.unusedSize
  const status = pack.status
  const time = timeMs(pack.time)
  if (pack.usedBlobs > 0) status.push('hasUsedBlobs')
  if (pack.unusedBlobs > 0 || pack.blobs.length === 0) status.push('hasUnusedBlobs')

  if (pack.marked) {
    status.push('marked')
    if (pack.usedBlobs > 0) return setAction(pack, 'recover', stats)
    if (options.instantDelete) return setAction(pack, 'delete', stats)
    if (time === undefined) {
      status.push('timeNotSet')
      return setAction(pack, 'keepMarked', stats)
    }
    return setAction(pack, now - options.keepDelete >= time ? 'delete' : 'keepMarked', stats)
  }

  const tooYoung = time !== undefined && time > now - options.keepPack
  if (tooYoung) status.push('tooYoung')
  const sizer = input.sizers[type]
  if (sizer.isTooSmall(pack.size)) status.push('tooSmall')
  if (sizer.isTooLarge(pack.size)) status.push('tooLarge')
  const toCompress = options.repackUncompressed && !isCompressed(pack)
  if (toCompress) status.push('notCompressed')
  const mixed = isMixed(pack)
  if (mixed) status.push('mixed')
  const keepUncacheable = options.repackCacheableOnly && type === 'data'

  if (pack.usedBlobs === 0) {
    stats.packsByUse.unused++
    return setAction(pack, tooYoung ? 'keep' : options.instantDelete ? 'delete' : 'markDelete', stats)
  }
  if (pack.unusedBlobs === 0) stats.packsByUse.used++
  else stats.packsByUse.partlyUsed++
  if (tooYoung || keepUncacheable) return setAction(pack, 'keep', stats)
  if (pack.unusedBlobs > 0) candidates.push({ pack, reason: 'partlyUsed' })
  else if (toCompress || mixed || options.repackAll) candidates.push({ pack, reason: 'toCompress' })
  else if (!sizer.sizeOk(pack.size)) candidates.push({ pack, reason: 'sizeMismatch' })
  else setAction(pack, 'keep', stats)
}

/** Sets a pack's action and counts it (rustic's `set_todo`). */
function setAction(pack: PrunePack, action: PackAction, stats: PruneStats): void {
  pack.action = action
  const type = pack.blobType ?? 'data'
  if (action === 'repack') {
    stats.blobs[type].repack += pack.usedBlobs + pack.unusedBlobs
    stats.blobs[type].repackRemove += pack.unusedBlobs
    stats.bytes[type].repack += pack.usedSize + pack.unusedSize
    stats.bytes[type].repackRemove += pack.unusedSize
  } else if (action === 'markDelete' || action === 'delete') {
    stats.blobs[type].remove += pack.unusedBlobs
    stats.bytes[type].remove += pack.unusedSize
  }
}

function sum(stats: PruneStats, field: keyof PruneBlobStats): number {
  return stats.bytes.data[field] + stats.bytes.tree[field]
}

function limitBytes(limit: SizeLimit, base: (percent: number) => number): number {
  if (limit.kind === 'unlimited') return Infinity
  if (limit.kind === 'bytes') return limit.bytes
  return base(limit.percent)
}

/** Step 4 (rustic's `decide_repack`). */
function decideRepack(candidates: Candidate[], options: ResolvedPruneOptions, stats: PruneStats, sizers: Record<BlobType, PackSizer>): void {
  const used = sum(stats, 'used')
  const maxUnused =
    options.repackUncompressed || options.repackAll ? 0 : limitBytes(options.maxUnused, (p) => Math.floor((p * used) / (100 - p)))
  const maxRepack = limitBytes(options.maxRepack, (p) => Math.floor((p * (used + sum(stats, 'unused'))) / 100))

  const typeRank = (t: BlobType | undefined): number => (t === 'tree' ? 0 : 1)
  candidates.sort(
    (a, b) =>
      typeRank(a.pack.blobType) - typeRank(b.pack.blobType) ||
      // emptiest first: a.unused / a.used > b.unused / b.used
      b.pack.unusedSize * a.pack.usedSize - a.pack.unusedSize * b.pack.usedSize,
  )
  const resize: Record<BlobType, PrunePack[]> = { data: [], tree: [] }
  const repackSize: Record<BlobType, number> = { data: 0, tree: 0 }
  const repacking: Record<BlobType, boolean> = { data: false, tree: false }
  for (const { pack, reason } of candidates) {
    const type = pack.blobType ?? 'data'
    const unusedAfter = sum(stats, 'unused') - sum(stats, 'remove') - sum(stats, 'repackRemove')
    if (
      repackSize.data + repackSize.tree + pack.usedSize >= maxRepack ||
      (unusedAfter < maxUnused && reason === 'partlyUsed' && type === 'data') ||
      (reason === 'sizeMismatch' && options.noResize)
    ) {
      setAction(pack, 'keep', stats)
    } else if (reason === 'sizeMismatch') {
      resize[type].push(pack)
      repackSize[type] += pack.usedSize
    } else {
      setAction(pack, 'repack', stats)
      repackSize[type] += pack.usedSize
      repacking[type] = true
    }
  }
  for (const type of ['tree', 'data'] as const) {
    const action = repacking[type] || repackSize[type] > sizers[type].targetSize() ? 'repack' : 'keep'
    for (const pack of resize[type]) setAction(pack, action, stats)
  }
}

/** Step 5 for one indexed pack: needed packs must exist with the indexed size. */
function checkExisting(pack: PrunePack, existing: Map<Id, number>): void {
  const size = existing.get(pack.id)
  existing.delete(pack.id)
  if (pack.action !== 'keep' && pack.action !== 'recover' && pack.action !== 'repack') return
  if (size === undefined) {
    if (pack.usedBlobs === 0 && pack.action === 'keep') {
      // an unneeded pack the index still names but that is gone: dropped from the index
      pack.status.push('missing')
      pack.action = 'delete'
      return
    }
    throw new RusticError(
      'Repository',
      `pack ${pack.id} (index ${shortId(pack.indexFile!)}) holds blobs that snapshots need, but the pack file is missing: nothing was changed. Run check, and repair index`,
      { code: 'PackNotFound' },
    )
  }
  if (size !== pack.size) {
    throw new RusticError(
      'Repository',
      `pack ${pack.id} has ${size} bytes, but index ${shortId(pack.indexFile!)} describes ${pack.size}: nothing was changed. Run check, and repair index`,
      { code: 'PackSizeMismatch' },
    )
  }
}

/**
 * Step 6: the needed blobs of repacked packs that no kept pack holds, each once, by offset. Takes the
 * needed blobs out of `used` (not needed afterwards) instead of copying them.
 */
function pickBlobsToCopy(entries: IndexEntry[], used: UsedBlobs): void {
  for (const e of entries) {
    for (const p of e.packs) {
      if (p.action === 'keep' || p.action === 'recover') for (const b of p.blobs) used[b.type].delete(b.id)
    }
  }
  for (const e of entries) {
    for (const p of e.packs) {
      if (p.action !== 'repack') continue
      p.copy = p.blobs.filter((b) => used[b.type].delete(b.id)).sort((a, b) => a.offset - b.offset)
    }
  }
  for (const type of ['tree', 'data'] as const) {
    const [left] = used[type].keys()
    if (left !== undefined) {
      throw new RusticError('Internal', `prune found no pack to keep or repack ${type} blob ${left} from: nothing was changed (please report this)`, {
        code: 'Internal',
      })
    }
  }
}

/** Step 7 (rustic's `filter_index_files`): index files with a change, and small ones when anything changes. */
function indexFilesToRewrite(entries: IndexEntry[]): Id[] {
  let anyChange = false
  const chosen = entries.filter((e) => {
    const change = e.modified || e.packs.some((p) => (p.action !== 'keep' && p.action !== 'keepMarked') || p.status.includes('timeNotSet'))
    anyChange ||= change
    return change || e.blobCount < MIN_INDEX_BLOBS
  })
  // a single small file and nothing to change: leave it
  if (!anyChange && chosen.length === 1) return []
  return chosen.map((e) => e.id)
}

function totals(stats: PruneStats): PruneTotals {
  const used = sum(stats, 'used')
  const unused = sum(stats, 'unused')
  const unindexed = stats.unindexed.bytes
  const total = used + unused + unindexed
  const repack = sum(stats, 'repack')
  const repackRemove = sum(stats, 'repackRemove')
  const remove = sum(stats, 'remove') + unindexed
  const prune = remove + repackRemove
  return { used, unused, unindexed, total, repack, repackRemove, remove, prune, remaining: total - prune, unusedAfter: unused - sum(stats, 'remove') - repackRemove }
}

type PruneTotals = PruneStats['totals']
