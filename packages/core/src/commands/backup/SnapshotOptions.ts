import { hostname, userInfo } from 'node:os'
import { z } from 'zod'
import type { DeleteOption, SnapshotFile } from '../../repofile/index.js'
import { goTimeFromDate, nowGoTime } from '../../repofile/index.js'
import { parseDuration } from '../../util/duration.js'
import { RusticError } from '../../error/RusticError.js'
import { parseOptions } from '../../util/parseOptions.js'

/** The version string written into snapshots. */
export const PROGRAM_VERSION = 'rustic-ts 0.1.0'

/** Metadata of a new snapshot (rustic_core's `SnapshotOptions`). */
export const SnapshotOptionsSchema = z.object({
  /** Hostname; default: this machine's. */
  host: z.string().optional(),
  /** Tags. */
  tags: z.array(z.string()).default([]),
  /** Label (rustic). */
  label: z.string().optional(),
  /** Description (rustic). */
  description: z.string().optional(),
  /** Never delete this snapshot with forget. */
  deleteNever: z.boolean().default(false),
  /** Allow deletion only after this duration (e.g. `30d`) or this date (ISO 8601). */
  deleteAfter: z.string().optional(),
  /** Snapshot time; default now. */
  time: z.date().optional(),
})

/** Snapshot metadata; see {@link SnapshotOptionsSchema}. */
export type SnapshotOptions = z.input<typeof SnapshotOptionsSchema>

/** A new snapshot's fields from options (without tree, paths and summary). */
export function snapshotFromOptions(options: SnapshotOptions): Omit<SnapshotFile, 'tree' | 'paths'> {
  const o = parseOptions(SnapshotOptionsSchema, options, 'snapshot options')
  if (o.deleteNever && o.deleteAfter) {
    throw new RusticError('InvalidInput', 'give only one of deleteNever and deleteAfter', { code: 'InvalidOptions' })
  }
  const now = o.time ?? new Date()
  let del: DeleteOption | undefined
  if (o.deleteNever) del = { kind: 'never' }
  else if (o.deleteAfter) del = { kind: 'after', time: goTimeFromDate(deleteAfterDate(o.deleteAfter, now)) }
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

function deleteAfterDate(spec: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(spec)) {
    const d = new Date(spec)
    if (Number.isNaN(d.getTime())) throw new RusticError('InvalidInput', `invalid date "${spec}"`, { code: 'InvalidOptions' })
    return d
  }
  return new Date(now.getTime() + parseDuration(spec))
}
