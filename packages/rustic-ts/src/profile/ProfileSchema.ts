import { z } from 'zod'
import {
  BackupOptionsSchema,
  CheckOptionsSchema,
  DiffOptionsSchema,
  DumpOptionsSchema,
  FindOptionsSchema,
  ForgetOptionsSchema,
  GroupSnapshotsOptionsSchema,
  KeepOptionsSchema,
  LocalSourceOptionsSchema,
  LsOptionsSchema,
  PruneOptionsSchema,
  RepositoryOptionsSchema,
  RestoreOptionsSchema,
  StatsOptionsSchema,
  UnlockOptionsSchema,
} from '@rustic-ts/core'
import { parseDuration, parseGroupCriterion, parseSize, parseUserTime } from '@rustic-ts/core/internal'
import { parseDurationMs } from '../backendsFromOptions.js'

/**
 * What a key of a profile file holds: a value checked by a zod schema (a library option's own schema),
 * a table of known keys, an array of such tables (`[[backup.snapshots]]`), a table of free keys with
 * string values (`[global.env]`, `[repository.options]`), or an array of strings or tables
 * (`[copy] targets`).
 */
export type ProfileField =
  | z.ZodType
  | { readonly kind: 'table'; readonly fields: ProfileFields }
  | { readonly kind: 'tables'; readonly fields: ProfileFields; readonly requireOneOf?: readonly string[] }
  | { readonly kind: 'map' }
  | { readonly kind: 'namesOrTables'; readonly fields: ProfileFields }

/** The keys of a table, camelCase as in the library (files write them in kebab-case). */
export type ProfileFields = Readonly<Record<string, ProfileField>>

/** `keepWithinDaily` → `keep-within-daily`. */
export function kebabCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

const MAP = { kind: 'map' } as const
const table = (fields: ProfileFields): ProfileField => ({ kind: 'table', fields })

function pick<S extends z.ZodRawShape, K extends keyof S & string>(shape: S, keys: readonly K[]): Pick<S, K> {
  return Object.fromEntries(keys.map((k) => [k, shape[k]])) as Pick<S, K>
}

function omit<S extends z.ZodRawShape, K extends keyof S & string>(shape: S, keys: readonly K[]): Omit<S, K> {
  return Object.fromEntries(Object.entries(shape).filter(([k]) => !(keys as readonly string[]).includes(k))) as Omit<S, K>
}

/** A string that `parse` accepts: its error message becomes the issue's. */
function readable(parse: (text: string) => unknown): z.ZodType<string> {
  return z.string().superRefine((text, ctx) => {
    try {
      parse(text)
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message })
    }
  })
}

/** A duration as the CLI takes it (`30s`, `10m`, `1h30m`, `500ms`, `0`). */
const DURATION = readable((t) => (t.trim() === '0' ? 0 : parseDurationMs(t)))
/** A snapshot time bound: a TOML date-time, or a time as `--filter-after` takes it. */
const TIME = z.union([z.date(), readable((t) => parseUserTime(t))])
/** A grouping as `--group-by` takes it (`host,label,paths`). */
const GROUP_BY = readable(parseGroupCriterion)
const strings = z.array(z.string())

/** `[global]`: settings for every command (rustic's names). */
export const GLOBAL_FIELDS = {
  /** Profiles merged before this one (this one's values win). */
  useProfiles: z.array(z.string().min(1)),
  /** Commands that can write do nothing (their `--dry-run`). */
  dryRun: z.boolean(),
  /** No progress bars (`--no-progress`). */
  noProgress: z.boolean(),
  /** How commands group snapshots by default (`--group-by`). */
  groupBy: GROUP_BY,
  /** Environment variables set for the commands (rclone's, say) unless already set. */
  env: MAP,
} satisfies ProfileFields

const R = RepositoryOptionsSchema.shape

/** `[repository]` (and each `[[copy.targets]]` table): where the repository is and how to open it. */
export const REPOSITORY_FIELDS = {
  repository: z.string().min(1),
  repoHot: z.string().min(1),
  password: z.string(),
  passwordFile: z.string().min(1),
  passwordCommand: z.string().min(1),
  ...pick(R, ['cacheDir', 'noCache', 'warmUp', 'warmUpCommand', 'warmUpBatch', 'warmUpWaitCommand', 'concurrency', 'lock']),
  /** rustic's `warm-up-wait`: a duration (the library's `warmUpWaitMs`). */
  warmUpWait: DURATION,
  /** How long to wait for another client's lock (`--retry-lock`; the library's `retryLockMs`). */
  retryLock: DURATION,
  options: MAP,
  optionsHot: MAP,
  optionsCold: MAP,
} satisfies ProfileFields

/** rustic's snapshot filter keys: `[snapshot-filter]`, and in `[forget]` for forget alone. */
export const FILTER_FIELDS = {
  filterHosts: strings,
  filterLabels: strings,
  filterPaths: strings,
  /** Tag lists: `["a,b", "c"]` = a and b, or c (`--tag a,b --tag c`). */
  filterTags: strings,
  filterAfter: TIME,
  filterBefore: TIME,
} satisfies ProfileFields

/** The local source's options a profile sets beside the backup options (rustic writes them flat in `[backup]`). */
export const LOCAL_SOURCE_KEYS = [
  'excludes',
  'iexcludes',
  'excludeFiles',
  'iexcludeFiles',
  'excludeIfPresent',
  'excludeCaches',
  'excludeLargerThan',
  'oneFileSystem',
  'readXattrs',
  'withAtime',
  'ignoreDevid',
  'includeSockets',
  'statConcurrency',
  'statInWorker',
  'readChunkSize',
] as const

const BACKUP_OPTION_FIELDS = {
  ...omit(BackupOptionsSchema.shape, ['local', 'snapshotPaths']),
  ...pick(LocalSourceOptionsSchema.shape, LOCAL_SOURCE_KEYS),
  excludeLargerThan: z.union([z.number().int().nonnegative(), readable(parseSize)]),
  deleteAfter: readable((t) => (/^\d{4}-\d{2}-\d{2}/.test(t) ? t : parseDuration(t))),
  /** Back up this command's output as one file (`--stdin-command`). */
  stdinCommand: z.string().min(1),
  /** The file name of standard input or `stdin-command`'s output (`--stdin-filename`). */
  stdinFilename: z.string().min(1),
} satisfies ProfileFields

/** One `[[backup.snapshots]]` entry: what to back up and how; its keys replace those of `[backup]`. */
export const BACKUP_SNAPSHOT_FIELDS = {
  ...BACKUP_OPTION_FIELDS,
  /** The paths to back up (`["-"]`: standard input). */
  sources: z.array(z.string().min(1)).min(1),
  /** A name for the entry (`backup --name`). */
  name: z.string().min(1),
} satisfies ProfileFields

/**
 * `[prune]`: `PruneOptions` but those a run decides (`dry-run` comes from `[global]`, `ignore-snapshots`
 * and `now` from the program). rustic has no such section (its prune options are flags only); here they
 * are the defaults of `prune` and of `forget --prune`.
 */
export const PRUNE_FIELDS = omit(PruneOptionsSchema.shape, ['ignoreSnapshots', 'dryRun', 'now']) satisfies ProfileFields

const FORGET_FIELDS = {
  ...KeepOptionsSchema.shape,
  ...pick(ForgetOptionsSchema.shape, ['groupBy']),
  ...FILTER_FIELDS,
  /** Prune once snapshots are removed (rustic's `prune = true`), with `[prune]`'s options. */
  prune: z.boolean(),
} satisfies ProfileFields

/**
 * Every section of a profile file and its keys. A command's section holds its library options
 * (`[restore]` is `RestoreOptions`, `[forget]` is `ForgetOptions`, ...) in kebab-case; a command added
 * to rustic-ts adds its section here.
 */
export const PROFILE_SECTIONS = {
  global: GLOBAL_FIELDS,
  repository: REPOSITORY_FIELDS,
  snapshotFilter: FILTER_FIELDS,
  backup: { ...BACKUP_OPTION_FIELDS, snapshots: { kind: 'tables', fields: BACKUP_SNAPSHOT_FIELDS, requireOneOf: ['sources', 'stdinCommand'] } },
  forget: FORGET_FIELDS,
  restore: RestoreOptionsSchema.shape,
  prune: PRUNE_FIELDS,
  check: omit(CheckOptionsSchema.shape, ['snapshots', 'filter']),
  /** rustic's `targets`: profile names (its current form) or `[[copy.targets]]` tables (its earlier form). */
  copy: { targets: { kind: 'namesOrTables', fields: REPOSITORY_FIELDS } },
  snapshots: omit(GroupSnapshotsOptionsSchema.shape, ['snapshots', 'filter']),
  ls: LsOptionsSchema.shape,
  find: omit(FindOptionsSchema.shape, ['snapshots', 'filter']),
  diff: omit(DiffOptionsSchema.shape, ['onChange']),
  dump: DumpOptionsSchema.shape,
  unlock: UnlockOptionsSchema.shape,
  stats: omit(StatsOptionsSchema.shape, ['snapshots', 'filter']),
} as const satisfies Record<string, ProfileFields>

/** The section names (camelCase; `snapshot-filter` in files). */
export type ProfileSectionName = keyof typeof PROFILE_SECTIONS

/** The top level of a profile file: its sections. */
export const PROFILE_FIELDS: ProfileFields = Object.fromEntries(Object.entries(PROFILE_SECTIONS).map(([k, v]) => [k, table(v)]))

/**
 * Keys that belong in another section, with the hint an unknown-key error gives for them: prune's options
 * written in `[forget]` (rustic takes them as flags only; rustic-ts reads them from `[prune]`).
 */
export const KEYS_ELSEWHERE: Readonly<Record<string, { readonly fields: ProfileFields; readonly hint: string }>> = {
  forget: { fields: PRUNE_FIELDS, hint: 'prune options go in [prune], which forget\'s prune = true uses too' },
}

/** rustic's sections for commands rustic-ts does not have: read past with a warning. */
export const IGNORED_SECTIONS: readonly string[] = ['webdav', 'mount']
