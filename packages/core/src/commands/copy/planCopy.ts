import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import { parseGoTime, type SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import type { LockHandle } from '../../repository/lock/index.js'
import { resolveSnapshotsOrAll } from '../../repository/resolveSnapshot.js'
import { SnapshotFilterSchema } from '../../repository/SnapshotFilter.js'
import { parseOptions } from '../../util/parseOptions.js'

/** Options of {@link IndexedRepository.planCopy}: which snapshots of the source to copy. */
export const CopyOptionsSchema = z.object({
  /** Snapshots by full id, unique id prefix, `latest` or `latest~N`; default: every snapshot passing `filter`. */
  snapshots: z.array(z.string()).default([]),
  /** Host, path, tag and label filter (restic's `--host`, `--path`, `--tag`). */
  filter: SnapshotFilterSchema.optional(),
})

/** Options of {@link IndexedRepository.planCopy}; see {@link CopyOptionsSchema}. */
export type CopyOptions = z.input<typeof CopyOptionsSchema>

/** One selected source snapshot and, when it was copied before, its copy in the target. */
export interface CopySnapshotPlan {
  /** The snapshot in the source repository. */
  snapshot: SnapshotFile
  /** A target snapshot with the same tree, time, host and paths: the snapshot is not copied again. */
  existing?: SnapshotFile
}

/** What {@link IndexedRepository.copy} will do; from {@link IndexedRepository.planCopy}. */
export interface CopyPlan {
  /** The id of the source repository. */
  readonly sourceId: Id
  /** The repository to copy into. */
  readonly target: IndexedRepository
  /** Every selected snapshot, oldest first. */
  readonly snapshots: CopySnapshotPlan[]
}

/** The snapshots of a plan that are still to copy (those without an `existing` copy). */
export function snapshotsToCopy(plan: CopyPlan): SnapshotFile[] {
  return plan.snapshots.filter((s) => s.existing === undefined).map((s) => s.snapshot)
}

/**
 * Selects the source snapshots to copy into `target` and finds those copied before: a target snapshot
 * with the same tree, time, host and set of paths counts as a copy (a copy keeps all of these), so a
 * second copy copies nothing. Reads snapshots only, under shared locks of both repositories.
 * @throws RusticError `InvalidInput` (code `SameRepository`) when source and target are one repository;
 *   `IdNotFound` / `AmbiguousId` for snapshots that cannot be resolved; `InvalidOptions`.
 */
export async function planCopy(
  source: IndexedRepository,
  target: IndexedRepository,
  options: CopyOptions = {},
  control: Control = {},
): Promise<CopyPlan> {
  const o = parseOptions(CopyOptionsSchema, options, 'copy options')
  refuseSameRepository(source, target)
  return withBothLocked(
    source,
    target,
    async ({ signal }) => {
      const selected = await resolveSnapshotsOrAll(source.repo, o.snapshots, o.filter, { ...control, signal })
      const copies = new CopyFinder(await target.repo.getSnapshots({}, { signal }))
      const snapshots = selected.map((snapshot) => {
        const existing = copies.find(snapshot)
        return existing ? { snapshot, existing } : { snapshot }
      })
      return { sourceId: source.repo.id, target, snapshots }
    },
    control,
  )
}

/**
 * Runs `fn` under shared locks of both repositories, the source's taken first (as restic's copy does).
 * `fn` gets the target's lock, whose signal also ends when the source's lock is lost.
 */
export function withBothLocked<T>(source: IndexedRepository, target: IndexedRepository, fn: (lock: LockHandle) => Promise<T>, control: Control): Promise<T> {
  return source.repo.withLock('shared', (srcLock) => target.repo.withLock('shared', fn, { ...control, signal: srcLock.signal }), control)
}

/** Throws `SameRepository` when source and target are the same repository at the same place. */
export function refuseSameRepository(source: IndexedRepository, target: IndexedRepository): void {
  if (source.repo.id === target.repo.id && source.repo.location() === target.repo.location()) {
    throw new RusticError('InvalidInput', `cannot copy snapshots of ${source.repo.location()} into itself: give another target repository`, {
      code: 'SameRepository',
    })
  }
}

/** Finds target snapshots that are copies of source snapshots (same tree, time, host and paths). */
export class CopyFinder {
  private readonly byTree = new Map<Id, SnapshotFile[]>()

  constructor(targetSnapshots: Iterable<SnapshotFile>) {
    for (const s of targetSnapshots) this.add(s)
  }

  /** Remembers a target snapshot (e.g. one just copied). */
  add(snap: SnapshotFile): void {
    const list = this.byTree.get(snap.tree)
    if (list) list.push(snap)
    else this.byTree.set(snap.tree, [snap])
  }

  /** A target snapshot that is a copy of `snap`, if there is one. */
  find(snap: SnapshotFile): SnapshotFile | undefined {
    return this.byTree.get(snap.tree)?.find((t) => sameTime(t.time, snap.time) && t.hostname === snap.hostname && samePaths(t.paths, snap.paths))
  }
}

/** Two snapshot times name the same instant (written in any zone or precision). */
function sameTime(a: string, b: string): boolean {
  if (a === b) return true
  try {
    return parseGoTime(a).unixNs === parseGoTime(b).unixNs
  } catch {
    return false
  }
}

function samePaths(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a)
  return set.size === new Set(b).size && b.every((p) => set.has(p))
}
