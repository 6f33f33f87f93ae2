import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import type { SnapshotFile } from '../../repofile/index.js'
import { formatLocalGoTime, isGoTime, parseGoTime } from '../../repofile/goTime.js'
import { parseUserTime } from '../../util/userTime.js'
import { deleteOptionFromSpec, sameDeleteOption, type DeletePolicySpec } from '../snapshots/deletePolicy.js'

/** Tags: an array, each element possibly holding several comma-separated tags (`["a,b", "c"]`). */
const TagsSchema = z.array(z.string()).transform((v) => v.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== ''))

/**
 * Changes to make to snapshots (rustic's `SnapshotModification`, restic's `tag --add/--set/--remove`).
 * Tags are set first, then added, then removed; added tags go after the existing ones, without repeats.
 */
export const SnapshotModificationSchema = z.object({
  /** Replace the tags with these (`[]` = no tags). */
  setTags: TagsSchema.optional(),
  /** Add these tags. */
  addTags: TagsSchema.default([]),
  /** Remove these tags. */
  removeTags: TagsSchema.default([]),
  /** Set the label (`""` removes it). */
  setLabel: z.string().optional(),
  /** Set the description (`""` removes it). */
  setDescription: z.string().optional(),
  /**
   * Set the delete policy: `never`, `notSet` (remove it), a `Date`, a time string (`2026-01-01`), or a
   * duration from now (`30d`, `1y`).
   */
  setDelete: z.union([z.date(), z.string()]).optional(),
  /** Set the host name. */
  setHostname: z.string().optional(),
  /** Set the snapshot time: a `Date` (written in this machine's zone) or a time string (RFC 3339 kept as given, or `2024-05-01 12:00`). */
  setTime: z.union([z.date(), z.string()]).optional(),
})

/** Snapshot changes (input form: every field optional). */
export type SnapshotModification = z.input<typeof SnapshotModificationSchema>

/** Snapshot changes with defaults applied. */
export type ResolvedSnapshotModification = z.output<typeof SnapshotModificationSchema>

/** True if the modification asks for any change at all. */
export function isEmptyModification(m: ResolvedSnapshotModification): boolean {
  return (
    m.setTags === undefined &&
    m.addTags.length === 0 &&
    m.removeTags.length === 0 &&
    m.setLabel === undefined &&
    m.setDescription === undefined &&
    m.setDelete === undefined &&
    m.setHostname === undefined &&
    m.setTime === undefined
  )
}

/** The snapshot time string of a `setTime` value. */
function timeString(v: Date | string): string {
  if (typeof v === 'string' && isGoTime(v)) return v
  const d = typeof v === 'string' ? parseUserTime(v, 'setTime') : v
  if (Number.isNaN(d.getTime())) throw new RusticError('InvalidInput', 'invalid setTime: the date is invalid', { code: 'InvalidOptions' })
  return formatLocalGoTime(BigInt(d.getTime()) * 1_000_000n)
}

/**
 * The snapshot after the modification, or `undefined` if nothing changes. The result is a new object:
 * without `id`, with `original` set to the first id the snapshot had (its `original`, else its id).
 * @param now - the time durations in `setDelete` count from.
 */
export function applyModification(snap: SnapshotFile, m: ResolvedSnapshotModification, now: Date): SnapshotFile | undefined {
  let tags = m.setTags === undefined ? [...snap.tags] : [...new Set(m.setTags)]
  for (const t of m.addTags) if (!tags.includes(t)) tags.push(t)
  if (m.removeTags.length > 0) tags = tags.filter((t) => !m.removeTags.includes(t))

  const next: SnapshotFile = { ...snap }
  delete next.id
  let changed = tags.length !== snap.tags.length || tags.some((t, i) => t !== snap.tags[i])
  next.tags = tags

  if (m.setLabel !== undefined && m.setLabel !== (snap.label ?? '')) {
    changed = true
    if (m.setLabel === '') delete next.label
    else next.label = m.setLabel
  }
  if (m.setDescription !== undefined && m.setDescription !== (snap.description ?? '')) {
    changed = true
    if (m.setDescription === '') delete next.description
    else next.description = m.setDescription
  }
  if (m.setDelete !== undefined) {
    const del = deleteOptionFromSpec(m.setDelete as DeletePolicySpec, now)
    if (!sameDeleteOption(del, snap.delete)) {
      changed = true
      if (del === undefined) delete next.delete
      else next.delete = del
    }
  }
  if (m.setHostname !== undefined && m.setHostname !== snap.hostname) {
    changed = true
    next.hostname = m.setHostname
  }
  if (m.setTime !== undefined) {
    const time = timeString(m.setTime)
    if (parseGoTime(time).unixNs !== parseGoTime(snap.time).unixNs) {
      changed = true
      next.time = time
    }
  }
  if (!changed) return undefined
  if (snap.original === undefined && snap.id !== undefined) next.original = snap.id
  return next
}
