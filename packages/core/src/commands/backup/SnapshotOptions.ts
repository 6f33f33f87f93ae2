import { hostname, userInfo } from 'node:os'
import { z } from 'zod'
import type { DeleteOption, SnapshotFile } from '../../repofile/index.js'
import { goTimeFromDate, nowGoTime } from '../../repofile/index.js'
import { parseDuration } from '../../util/duration.js'
import { RusticError } from '../../error/RusticError.js'
import { parseOptions } from '../../util/parseOptions.js'
import { PROGRAM_VERSION } from './programVersion.js'

export { PROGRAM_VERSION }

/** Metadata of a new snapshot (rustic_core's `SnapshotOptions`). */
export const SnapshotOptionsSchema = z.object({
  /** Hostname; default: this machine's. */
  host: z.string().min(1, 'must not be empty').optional(),
  /** Tags. */
  tags: z.array(z.string()).default([]),
  /** Label (rustic). */
  label: z.string().optional(),
  /** Description (rustic). */
  description: z.string().optional(),
  /** Never delete this snapshot with forget. */
  deleteNever: z.boolean().default(false),
  /** Allow deletion only after this duration (e.g. `30d`) or this date (ISO 8601), up to the year 9999. */
  deleteAfter: z
    .string()
    .superRefine((spec, ctx) => {
      const d = deleteAfterDate(spec, new Date())
      if (typeof d === 'string') ctx.addIssue({ code: 'custom', message: d })
    })
    .optional(),
  /** Snapshot time; default now. */
  time: z
    .date()
    .refine((d) => inRange(d), 'must be a valid time from year 0 to 9999')
    .optional(),
})

/** Snapshot metadata; see {@link SnapshotOptionsSchema}. */
export type SnapshotOptions = z.input<typeof SnapshotOptionsSchema>

/** True for a valid date a snapshot can record (years 0 to 9999, as RFC 3339 has them). */
function inRange(d: Date): boolean {
  const y = d.getUTCFullYear()
  return Number.isFinite(d.getTime()) && y >= 0 && y <= 9999
}

/**
 * A new snapshot's fields from options (without tree, paths and summary). Invalid options fail with
 * `InvalidOptions` naming the field (`invalid snapshot options: host: must not be empty`).
 */
export function snapshotFromOptions(options: SnapshotOptions): Omit<SnapshotFile, 'tree' | 'paths'> {
  const o = parseOptions(SnapshotOptionsSchema, options, 'snapshot options')
  if (o.deleteNever && o.deleteAfter) {
    throw new RusticError('InvalidInput', 'invalid snapshot options: give only one of deleteNever and deleteAfter', { code: 'InvalidOptions' })
  }
  const now = o.time ?? new Date()
  let del: DeleteOption | undefined
  if (o.deleteNever) del = { kind: 'never' }
  else if (o.deleteAfter) {
    const d = deleteAfterDate(o.deleteAfter, now)
    if (typeof d === 'string') throw new RusticError('InvalidInput', `invalid snapshot options: deleteAfter: ${d}`, { code: 'InvalidOptions' })
    del = { kind: 'after', time: goTimeFromDate(d) }
  }
  let user = ''
  let uid = 0
  let gid = 0
  try {
    const u = userInfo()
    user = u.username
    uid = Math.max(0, u.uid)
    gid = Math.max(0, u.gid)
  } catch {
    // no user entry: leave empty
  }
  return {
    time: o.time ? goTimeFromDate(o.time) : nowGoTime(),
    hostname: o.host ?? hostname(),
    username: user,
    uid,
    gid,
    excludes: [],
    tags: o.tags,
    label: o.label,
    description: o.description,
    delete: del,
    programVersion: PROGRAM_VERSION,
  }
}

/** The time `deleteAfter` names (a date, or a duration after `now`), or what is wrong with it. */
function deleteAfterDate(spec: string, now: Date): Date | string {
  let d: Date
  if (/^\d{4}-\d{2}-\d{2}/.test(spec)) {
    d = new Date(spec)
    if (Number.isNaN(d.getTime())) return `invalid date "${spec}"`
  } else {
    try {
      d = new Date(now.getTime() + parseDuration(spec))
    } catch (e) {
      return (e as Error).message
    }
  }
  return inRange(d) ? d : `"${spec}" is after the year 9999`
}
