import type { BigIntStats, Dirent } from 'node:fs'
import { lstat, readdir, readlink, stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import pLimit from 'p-limit'
import { CIPHERTEXT_OVERHEAD } from '../../crypto/Key.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { noProgress } from '../../progress/Progress.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { nodeLinktargetBytes, nodeNameBytes, type Node } from '../../repofile/index.js'
import { pathFilter } from '../globFilter.js'
import { checkNodeName, joinFsName, joinFsPath, type FsPath } from './fsPath.js'
import { matchExisting } from './matchExisting.js'
import { nodeTimeNs, sameTime } from './nodeTimes.js'
import { planPackReads } from './packReads.js'
import type { Control } from '../../progress/Control.js'
import { parseOptions } from '../../util/parseOptions.js'
import { RestoreOptionsSchema, type RestoreOptions } from './RestoreOptions.js'
import type { PlanEntry, PlannedBlob, PlannedFile, PlanRemoval, RestorePlan, RestorePlanStats } from './RestorePlan.js'

/** Tree reads in flight while planning. */
const TREE_READS = 16
/** Most tree nodes read before the walk (about 100-200 MiB); more are read as the walk needs them. */
const PRELOAD_NODES = 500_000

/** A file's content as the index describes it. */
interface Content {
  ids: Id[]
  lengths: number[]
  size: number
}

/** A file entry whose existing content is compared blob by blob after the walk. */
interface Check {
  entry: number
  content: Content
  existingSize: number
}

const isNotFound = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'ENOENT'

function errno(e: unknown, what: string, path: FsPath): RusticError {
  const p = typeof path === 'string' ? path : path.toString('utf8')
  return new RusticError('InputOutput', `cannot ${what} ${p}: ${(e as Error).message}`, { code: 'RestoreIo', cause: e })
}

/**
 * Works out what restoring `node` (a directory: its contents; anything else: that one entry) into
 * `target` will do, without writing anything (rustic_core's `prepare_restore`): which entries are
 * created, modified in place, left alone or removed, which blobs are read from which packs (each pack
 * once, neighbouring blobs merged into one ranged read) and written where.
 *
 * An existing file with the snapshot's size and mtime is left alone (with `verifyExisting` it is hashed
 * first); any other existing file is hashed blob by blob and only the differing blobs are rewritten.
 * With `delete`, target entries the snapshot does not have are removed. A tree entry with an unsafe name
 * (`/`, `..`, NUL) fails the plan with `UnsafeName` before anything is written.
 *
 * @param target - the directory to restore into (created if missing); for a non-directory node, a
 *   directory to put it in or the path to restore it as.
 */
export async function planRestore(
  indexed: IndexedRepository,
  node: Node,
  target: string,
  options: RestoreOptions = {},
  control: Control = {},
): Promise<RestorePlan> {
  const planOptions = parseOptions(RestoreOptionsSchema, options, 'restore options')
  const opts = { ...planOptions, ...indexed.repo.control(control) }
  const { signal } = opts
  const selected = pathFilter({ include: opts.include, exclude: opts.exclude, ignoreCase: opts.ignoreCase })
  const progress = (opts.progress ?? noProgress)('spinner', 'collecting file information')
  const statLimit = pLimit(opts.fileConcurrency)
  // All trees below the restored directory are read first, TREE_READS at a time (the depth-first walk
  // would otherwise wait for each one in turn); past PRELOAD_NODES nodes the rest is read on demand.
  const trees = new Map<Id, Node[]>()
  let preloaded = 0
  const treeLimit = pLimit(TREE_READS)
  const preload = async (id: Id): Promise<void> => {
    if (trees.has(id) || preloaded > PRELOAD_NODES) return
    const nodes = await treeLimit(() => indexed.getTree(id, { signal }))
    if (trees.has(id)) return
    trees.set(id, nodes)
    preloaded += nodes.length
    await Promise.all(nodes.map((n) => (n.type === 'dir' && n.subtree ? preload(n.subtree) : undefined)))
  }
  const getTree = async (id: Id): Promise<Node[]> => trees.get(id) ?? indexed.getTree(id, { signal })

  const entries: PlanEntry[] = []
  const removals: PlanRemoval[] = []
  const checks: Check[] = []
  const contents = new Map<number, Content>()
  const hardlinks = new Map<string, number>()
  let additionalKept = 0

  const contentOf = (n: Node): Content => {
    const ids = n.content ?? []
    const lengths = ids.map((id) => {
      const loc = indexed.locate('data', id)
      return loc.uncompressedLength ?? loc.length - CIPHERTEXT_OVERHEAD
    })
    return { ids, lengths, size: lengths.reduce((a, b) => a + b, 0) }
  }

  /** Adds the entry for a non-directory node at `fsp`, given what exists there now. */
  const planLeaf = async (n: Node, rel: string, fsp: FsPath, lst: BigIntStats | undefined): Promise<void> => {
    const replace = (): void => {
      if (lst) removals.push({ path: rel, fsPath: fsp, isDir: lst.isDirectory(), reason: 'replaced' })
    }
    const idx = entries.length
    const entry: PlanEntry = { path: rel, fsPath: fsp, node: n, action: 'create' }
    switch (n.type) {
      case 'file': {
        const key = n.links !== undefined && n.links > 1 && n.inode ? `${n.deviceId ?? 0n}:${n.inode}` : undefined
        const canonical = key === undefined ? undefined : hardlinks.get(key)
        if (canonical !== undefined) {
          entry.linkTo = canonical
          const c = entries[canonical]!
          if (lst?.isFile() && c.action !== 'create' && c.existing && lst.ino === c.existing.ino && lst.dev === c.existing.dev) {
            entry.action = 'unchanged'
            entry.existing = { ino: lst.ino, dev: lst.dev }
          } else replace()
          break
        }
        if (key !== undefined) hardlinks.set(key, idx)
        const content = contentOf(n)
        contents.set(idx, content)
        if (lst?.isFile()) {
          entry.existing = { ino: lst.ino, dev: lst.dev }
          const existingSize = Number(lst.size)
          const mtime = nodeTimeNs(n.mtime)
          if (content.size === 0 && existingSize === 0) entry.action = 'unchanged'
          else if (!opts.verifyExisting && existingSize === content.size && mtime !== undefined && sameTime(lst.mtimeNs, mtime)) {
            entry.action = 'unchanged'
          } else {
            entry.action = 'modify'
            checks.push({ entry: idx, content, existingSize })
          }
        } else replace()
        break
      }
      case 'symlink': {
        if (lst?.isSymbolicLink()) {
          let current: Buffer | undefined
          try {
            current = await readlink(fsp, { encoding: 'buffer' })
          } catch (e) {
            if (!isNotFound(e)) throw errno(e, 'read symlink', fsp)
          }
          if (current?.equals(nodeLinktargetBytes(n))) entry.action = 'unchanged'
          else replace()
        } else replace()
        break
      }
      case 'fifo':
        if (lst?.isFIFO()) entry.action = 'unchanged'
        else replace()
        break
      case 'dev':
      case 'chardev': {
        const same = n.type === 'dev' ? lst?.isBlockDevice() : lst?.isCharacterDevice()
        if (same && lst!.rdev === (n.device ?? 0n)) entry.action = 'unchanged'
        else replace()
        break
      }
      default:
        return // sockets (and anything else) are not restored, as in restic
    }
    if (entry.action !== 'create') entry.existing ??= lst ? { ino: lst.ino, dev: lst.dev } : undefined
    entries.push(entry)
    progress.inc(1)
  }

  /** Plans the entries of tree `treeId` restored into `fsDir`; returns true if anything was planned there. */
  const planDir = async (treeId: Id | undefined, relDir: string, fsDir: FsPath, exists: boolean): Promise<boolean> => {
    throwIfAborted(signal)
    const startEntries = entries.length
    const startRemovals = removals.length
    const nodes = treeId === undefined ? [] : await getTree(treeId)
    for (const n of nodes) checkNodeName(n, relDir)

    const existing = new Map<string, Dirent<Buffer>>()
    if (exists) {
      let dirents: Dirent<Buffer>[]
      try {
        dirents = await readdir(fsDir, { withFileTypes: true, encoding: 'buffer' })
      } catch (e) {
        throw errno(e, 'read directory', fsDir)
      }
      for (const d of dirents) existing.set(d.name.toString('latin1'), d)
    }
    // lstat the existing entries that snapshot leaves will replace or keep, in parallel
    const stats = new Map<string, Promise<BigIntStats | undefined>>()
    const keyOf = (n: Node): string => Buffer.from(nodeNameBytes(n)).toString('latin1')
    for (const n of existing.size > 0 ? nodes : []) {
      const key = keyOf(n)
      const d = existing.get(key)
      if (d === undefined || n.type === 'dir') continue
      const p = joinFsPath(fsDir, n)
      stats.set(
        key,
        statLimit(() =>
          lstat(p, { bigint: true }).catch((e: unknown) => {
            if (isNotFound(e)) return undefined
            throw errno(e, 'stat', p)
          }),
        ),
      )
    }
    for (const s of stats.values()) s.catch(() => {})

    for (const n of nodes) {
      throwIfAborted(signal)
      const rel = `${relDir}/${n.name}`
      const fsp = joinFsPath(fsDir, n)
      let d: Dirent<Buffer> | undefined
      let key = ''
      if (existing.size > 0) {
        key = keyOf(n)
        d = existing.get(key)
        existing.delete(key)
      }
      if (n.type === 'dir') {
        const isDir = d?.isDirectory() ?? false
        const idx = entries.length
        const remIdx = removals.length
        entries.push({ path: rel, fsPath: fsp, node: n, action: isDir ? 'unchanged' : 'create' })
        progress.inc(1)
        if (d !== undefined && !isDir) removals.push({ path: rel, fsPath: fsp, isDir: false, reason: 'replaced' })
        const any = await planDir(n.subtree, rel, fsp, isDir)
        if (!any && !selected(rel)) {
          entries.length = idx
          removals.length = remIdx
        }
        continue
      }
      if (!selected(rel)) continue
      await planLeaf(n, rel, fsp, d === undefined ? undefined : await stats.get(key))
    }

    // what the target has and the snapshot does not
    for (const d of existing.values()) {
      const rel = `${relDir}/${d.name.toString('utf8')}`
      if (opts.delete && selected(rel)) {
        removals.push({ path: rel, fsPath: joinFsName(fsDir, d.name), isDir: d.isDirectory(), reason: 'additional' })
      } else additionalKept++
    }
    return entries.length > startEntries || removals.length > startRemovals
  }

  // --- the target
  const targetPath = resolve(target)
  const targetStat = await stat(targetPath).catch((e: unknown) => {
    if (isNotFound(e)) return undefined
    throw errno(e, 'stat', targetPath)
  })
  let planTarget: string
  let createTarget: boolean
  if (node.type === 'dir') {
    if (targetStat && !targetStat.isDirectory()) {
      throw new RusticError('InvalidInput', `restore target ${targetPath} exists and is not a directory`, { code: 'NotADirectory' })
    }
    planTarget = targetPath
    createTarget = !targetStat
    if (node.subtree) await preload(node.subtree)
    await planDir(node.subtree, '', targetPath, !createTarget)
  } else {
    checkNodeName(node, '')
    const intoDir = targetStat?.isDirectory() ?? false
    planTarget = intoDir ? targetPath : dirname(targetPath)
    const fsp = intoDir ? joinFsPath(targetPath, node) : targetPath
    const parent = intoDir ? targetStat : await stat(planTarget).catch(() => undefined)
    createTarget = !parent
    if (parent && !parent.isDirectory()) {
      throw new RusticError('InvalidInput', `restore target ${planTarget} exists and is not a directory`, { code: 'NotADirectory' })
    }
    const lst = await lstat(fsp, { bigint: true }).catch((e: unknown) => {
      if (isNotFound(e)) return undefined
      throw errno(e, 'stat', fsp)
    })
    const rel = `/${intoDir ? node.name : basename(targetPath)}`
    if (selected(rel)) await planLeaf(node, rel, fsp, lst)
  }

  // --- compare changed files blob by blob
  const matched = new Map<number, boolean[]>()
  await Promise.all(
    checks.map((c) =>
      statLimit(async () => {
        const e = entries[c.entry]!
        let m: boolean[]
        try {
          m = await matchExisting(e.fsPath, c.content.ids, c.content.lengths, c.existingSize, signal)
        } catch (err) {
          if (err instanceof RusticError) throw err
          throw errno(err, 'read', e.fsPath)
        }
        if (c.existingSize === c.content.size && m.every(Boolean)) e.action = 'verified'
        else matched.set(c.entry, m)
      }),
    ),
  )

  // --- files to write and the blobs they need
  const files: PlannedFile[] = []
  const blobs = new Map<Id, { packId: Id; blob: PlannedBlob }>()
  let bytesToWrite = 0
  let bytesMatched = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const content = contents.get(i)
    if (e.node.type !== 'file' || e.linkTo !== undefined || content === undefined) continue
    if (e.action === 'unchanged' || e.action === 'verified') {
      bytesMatched += content.size
      continue
    }
    const create = e.action === 'create'
    const m = matched.get(i)
    const file: PlannedFile = { entry: i, size: content.size, create, writes: 0 }
    const fileIdx = files.length
    let offset = 0
    for (let j = 0; j < content.ids.length; j++) {
      const id = content.ids[j]!
      const len = content.lengths[j]!
      if (!create && m?.[j]) bytesMatched += len
      else {
        let b = blobs.get(id)
        if (!b) {
          const loc = indexed.locate('data', id)
          b = {
            packId: loc.packId,
            blob: { id, offset: loc.offset, length: loc.length, uncompressedLength: loc.uncompressedLength, dataLength: len, targets: [] },
          }
          blobs.set(id, b)
        }
        b.blob.targets.push({ file: fileIdx, offset })
        file.writes++
        bytesToWrite += len
      }
      offset += len
    }
    e.file = fileIdx
    files.push(file)
  }
  const reads = planPackReads(blobs.values(), { maxReadGap: opts.maxReadGap, maxReadSize: opts.maxReadSize })

  // --- counts
  const stats: RestorePlanStats = {
    files: { create: 0, modify: 0, unchanged: 0, verified: 0 },
    dirs: { create: 0, unchanged: 0 },
    others: { create: 0, unchanged: 0 },
    removals: { additional: 0, replaced: 0 },
    additionalKept,
    bytesToRead: reads.reduce((a, r) => a + r.length, 0),
    bytesToWrite,
    bytesMatched,
    blobs: blobs.size,
    packs: new Set(reads.map((r) => r.packId)).size,
    reads: reads.length,
  }
  for (const e of entries) {
    if (e.node.type === 'file') stats.files[e.action]++
    else {
      const s = e.node.type === 'dir' ? stats.dirs : stats.others
      if (e.action === 'create') s.create++
      else s.unchanged++
    }
  }
  for (const r of removals) stats.removals[r.reason]++
  progress.finish()
  return { target: planTarget, isDir: node.type === 'dir', createTarget, entries, removals, files, reads, stats, options: planOptions }
}
