import { z } from 'zod'
import type { Id } from '../id/Id.js'
import { DeleteOptionSchema, deleteOptionToJson, type DeleteOption } from './DeleteOption.js'
import { IdSchema, parseJsonText, UintSchema, unknownMembers, validateJson, withExtra } from './decodeJson.js'
import { GoTimeSchema } from './GoTimeSchema.js'
import { goTimeToDate, isGoTime } from './goTime.js'
import { goJson } from './goJson.js'
import {
  fastSummaryJson,
  rawMemberText,
  SnapshotSummarySchema,
  snapshotSummaryFromJson,
  snapshotSummaryToJson,
  type SnapshotSummary,
} from './SnapshotSummary.js'

/** A snapshot (`snapshots/<id>`, an unpacked file): what was backed up, when, where, and its root tree. */
export interface SnapshotFile {
  /** The storage id; set when loaded or saved, never serialised. */
  id?: Id
  /** When the snapshot was taken: RFC 3339 with up to nanoseconds, kept as the original string. */
  time: string
  /** The snapshot this one was based on. */
  parent?: Id
  /** The root tree. */
  tree: Id
  /** The backed-up paths. */
  paths: string[]
  /** Host name. */
  hostname: string
  /** User name. */
  username: string
  /** User id. */
  uid: number
  /** Group id. */
  gid: number
  /** Exclude patterns used. */
  excludes: string[]
  /** Tags. */
  tags: string[]
  /** For a modified snapshot (new tags, …): the id of the snapshot it was first saved as. */
  original?: Id
  /** Program and version that made it (`restic 0.16.0`, `rustic-ts 0.1.0`). */
  programVersion?: string
  /** Statistics of the backup. */
  summary?: SnapshotSummary
  /** rustic: a label. */
  label?: string
  /** rustic: a description. */
  description?: string
  /** rustic: deletion mark. */
  delete?: DeleteOption
  /** rustic: parent snapshots (for merged snapshots). */
  parents?: Id[]
  /** Unknown JSON members, written back verbatim (as `RawJson`) after the known ones. */
  extra?: Record<string, unknown>
}

const StringListSchema = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? [])

/** zod schema of a snapshot's JSON (snake_case keys, as stored). */
export const SnapshotFileSchema = z.object({
  time: GoTimeSchema,
  parent: IdSchema.nullish(),
  tree: IdSchema,
  paths: StringListSchema,
  hostname: z.string().nullish(),
  username: z.string().nullish(),
  uid: UintSchema.nullish(),
  gid: UintSchema.nullish(),
  excludes: StringListSchema,
  tags: StringListSchema,
  original: IdSchema.nullish(),
  program_version: z.string().nullish(),
  summary: z.record(z.string(), z.unknown()).nullish(),
  label: z.string().nullish(),
  description: z.string().nullish(),
  delete: DeleteOptionSchema.nullish(),
  parents: z.array(IdSchema).nullish(),
})

const KNOWN = new Set(Object.keys(SnapshotFileSchema.shape))

const LOWER_HEX_ID = /^[0-9a-f]{64}$/
const isId = (v: unknown): v is Id => typeof v === 'string' && LOWER_HEX_ID.test(v)
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')

/**
 * Fast path of {@link parseSnapshot} for snapshots as restic and rustic write them: the checks of
 * {@link SnapshotFileSchema} without zod's cost (listing 1,000 snapshots spent ~50 ms in it). Returns
 * `undefined` for anything unusual (upper-case ids, a `delete` or `parents` member, a wrong type), which then
 * goes through the schema (which also makes the error message).
 */
function fastSnapshotJson(value: unknown): z.output<typeof SnapshotFileSchema> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  const { time, parent, tree, paths, hostname, username, uid, gid, excludes, tags, original, summary, label, description } = v
  const programVersion = v['program_version']
  if (typeof time !== 'string' || !isGoTime(time) || !isId(tree)) return undefined
  if ((parent != null && !isId(parent)) || (original != null && !isId(original))) return undefined
  if ((paths != null && !isStringList(paths)) || (excludes != null && !isStringList(excludes)) || (tags != null && !isStringList(tags))) return undefined
  for (const x of [hostname, username, programVersion, label, description]) if (x != null && typeof x !== 'string') return undefined
  if ((uid != null && !isUint(uid)) || (gid != null && !isUint(gid))) return undefined
  if (summary != null && (typeof summary !== 'object' || Array.isArray(summary))) return undefined
  if (v['delete'] != null || v['parents'] != null) return undefined
  return {
    time,
    parent: parent as Id | null | undefined,
    tree,
    paths: paths ?? [],
    hostname: hostname as string | null | undefined,
    username: username as string | null | undefined,
    uid: uid as number | null | undefined,
    gid: gid as number | null | undefined,
    excludes: excludes ?? [],
    tags: tags ?? [],
    original: original as Id | null | undefined,
    program_version: programVersion as string | null | undefined,
    summary: summary as Record<string, unknown> | null | undefined,
    label: label as string | null | undefined,
    description: description as string | null | undefined,
  }
}

/**
 * The snapshot's JSON as restic writes it: Go JSON without newline, fields in restic's order
 * (`time`, `parent`, `tree`, `paths`, `hostname`, `username`, `uid`, `gid`, `excludes`, `tags`,
 * `original`, `program_version`, `summary`), then rustic's (`label`, `description`, `delete`,
 * `parents`), then `extra`. Empty/zero fields are left out like Go's `omitempty` (`paths` and `tree` never).
 */
export function serializeSnapshot(s: SnapshotFile): Uint8Array {
  return utf8Encoder.encode(snapshotJsonText(s))
}

const utf8Encoder = new TextEncoder()

/** The text of {@link serializeSnapshot} (for printing it: no round trip through UTF-8 bytes). */
export function snapshotJsonText(s: SnapshotFile): string {
  const nonEmpty = (a: string[] | undefined): string[] | undefined => (a !== undefined && a.length > 0 ? a : undefined)
  return goJson(
    withExtra(
      {
        time: s.time,
        parent: s.parent,
        tree: s.tree,
        paths: s.paths ?? [],
        hostname: s.hostname || undefined,
        username: s.username || undefined,
        uid: s.uid || undefined,
        gid: s.gid || undefined,
        excludes: nonEmpty(s.excludes),
        tags: nonEmpty(s.tags),
        original: s.original,
        program_version: s.programVersion || undefined,
        summary: s.summary === undefined ? undefined : snapshotSummaryToJson(s.summary),
        label: s.label || undefined,
        description: s.description || undefined,
        delete: s.delete === undefined ? undefined : deleteOptionToJson(s.delete),
        parents: s.parents !== undefined && s.parents.length > 0 ? s.parents : undefined,
      },
      s.extra,
    ),
  )
}

/**
 * Parses a snapshot's JSON (after {@link decodeUnpacked}).
 * @param what - names the file for errors, e.g. `snapshot 1a2b3c4d`.
 * @param id - the storage id, stored in the result's `id`.
 * @throws RusticError `Repository`/`DecodeError`.
 */
export function parseSnapshot(json: Uint8Array, what: string, id?: Id): SnapshotFile {
  const { text, value } = parseJsonText(json, what)
  const o = fastSnapshotJson(value) ?? validateJson(value, SnapshotFileSchema, what)
  const s: SnapshotFile = {
    time: o.time,
    tree: o.tree,
    paths: o.paths,
    hostname: o.hostname ?? '',
    username: o.username ?? '',
    uid: o.uid ?? 0,
    gid: o.gid ?? 0,
    excludes: o.excludes,
    tags: o.tags,
  }
  if (id !== undefined) s.id = id
  if (o.parent != null) s.parent = o.parent
  if (o.original != null) s.original = o.original
  if (o.program_version != null) s.programVersion = o.program_version
  if (o.summary != null) {
    const summary = fastSummaryJson(o.summary) ?? validateJson(o.summary, SnapshotSummarySchema, `summary of ${what}`)
    s.summary = snapshotSummaryFromJson(summary, o.summary, () => rawMemberText(text, 'summary'), o.time)
  }
  if (o.label != null) s.label = o.label
  if (o.description != null) s.description = o.description
  if (o.delete != null) s.delete = o.delete
  if (o.parents != null) s.parents = o.parents
  const extra = unknownMembers(text, value as Record<string, unknown>, KNOWN)
  if (extra !== undefined) s.extra = extra
  return s
}

/** The snapshot's time as a `Date` (sub-millisecond digits cut). */
export function snapshotTime(s: SnapshotFile): Date {
  return goTimeToDate(s.time)
}
